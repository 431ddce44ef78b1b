"""Thin HTTP for Twilio: URLs, which Basic credential, paging. Every URL is built from our configured base
URL, the organisation's AccountSid and a validated SID, never taken from a webhook or a response body."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel

from tether_relay.organizations.credentials import TwilioCredentials
from tether_relay.providers.errors import RecordingFetchFailed
from tether_relay.providers.http import (
    Credential,
    RetryPolicy,
    UpstreamBody,
    deleted_or_gone,
    open_stream,
    parsed_or_none,
    send,
)
from tether_relay.providers.twilio import payloads
from tether_relay.providers.twilio.payloads import is_sid

P = TypeVar("P", bound=BaseModel)
PROVIDER = "twilio"
MAX_SENTENCE_PAGES = 50  # 5,000 sentences a page: far beyond any call


class TwilioClient:
    def __init__(
        self, http: httpx.AsyncClient, api_base_url: str, intelligence_base_url: str, policy: RetryPolicy
    ) -> None:
        self._http = http
        self._api = api_base_url.rstrip("/")
        self._intelligence = intelligence_base_url.rstrip("/")
        self._policy = policy

    def _credential(self, creds: TwilioCredentials) -> Credential:
        """The account's Basic credential, for Twilio's two configured origins only (providers/http.py)."""
        return Credential.basic(*creds.basic_auth, self._api, self._intelligence)

    def _account(self, creds: TwilioCredentials) -> str:
        return f"{self._api}/2010-04-01/Accounts/{creds.account_sid}"

    async def _get(
        self,
        creds: TwilioCredentials,
        url: str,
        *,
        params: dict[str, str] | None = None,
        retry_not_found: bool = False,
    ) -> httpx.Response:
        return await send(
            self._http,
            self._http.build_request("GET", url, params=params),
            provider=PROVIDER,
            policy=self._policy,
            credential=self._credential(creds),
            retry_not_found=retry_not_found,
        )

    async def _json(
        self,
        creds: TwilioCredentials,
        url: str,
        model: type[P],
        *,
        params: dict[str, str] | None = None,
        retry_not_found: bool = False,
    ) -> P | None:
        response = await self._get(creds, url, params=params, retry_not_found=retry_not_found)
        return parsed_or_none(response, model, PROVIDER)

    async def recording(self, creds: TwilioCredentials, recording_sid: str) -> payloads.Recording | None:
        assert is_sid("RE", recording_sid)
        url = f"{self._account(creds)}/Recordings/{recording_sid}.json"
        return await self._json(creds, url, payloads.Recording, retry_not_found=True)

    async def call_recordings(self, creds: TwilioCredentials, call_sid: str) -> list[payloads.Recording]:
        assert is_sid("CA", call_sid)
        url = f"{self._account(creds)}/Calls/{call_sid}/Recordings.json"
        page = await self._json(creds, url, payloads.RecordingList, params={"PageSize": "50"})
        return page.recordings if page else []

    async def delete_recording(
        self, creds: TwilioCredentials, recording_sid: str
    ) -> Literal["deleted", "already-gone"]:
        """DELETE …/Recordings/{Sid}.json (204)."""
        assert is_sid("RE", recording_sid)
        url = f"{self._account(creds)}/Recordings/{recording_sid}.json"
        request = self._http.build_request("DELETE", url)
        response = await send(
            self._http, request, provider=PROVIDER, policy=self._policy, credential=self._credential(creds)
        )
        return deleted_or_gone(response, PROVIDER)

    async def media(self, creds: TwilioCredentials, recording_sid: str) -> UpstreamBody | None:
        """The MP3 (the extension picks the format), unread, or None if Twilio still says 404 after
        retries. Recordings run to hundreds of MB: the caller streams the body."""
        assert is_sid("RE", recording_sid)
        url = f"{self._account(creds)}/Recordings/{recording_sid}.mp3"
        return await open_stream(
            self._http,
            self._http.build_request("GET", url),
            provider=PROVIDER,
            policy=self._policy,
            credential=self._credential(creds),
            retry_not_found=True,
        )

    async def transcriptions(
        self, creds: TwilioCredentials, recording_sid: str
    ) -> list[payloads.Transcription]:
        assert is_sid("RE", recording_sid)
        url = f"{self._account(creds)}/Recordings/{recording_sid}/Transcriptions.json"
        page = await self._json(creds, url, payloads.TranscriptionList)
        return page.transcriptions if page else []

    async def intelligence_transcripts(
        self, creds: TwilioCredentials, service_sid: str, recording_sid: str
    ) -> list[payloads.IntelligenceTranscript]:
        assert is_sid("GA", service_sid)
        assert is_sid("RE", recording_sid)
        page = await self._json(
            creds,
            f"{self._intelligence}/v2/Transcripts",
            payloads.IntelligenceTranscriptList,
            params={"ServiceSid": service_sid, "SourceSid": recording_sid},
        )
        return page.transcripts if page else []

    async def sentences(
        self, creds: TwilioCredentials, transcript_sid: str
    ) -> AsyncIterator[payloads.Sentence]:
        assert is_sid("GT", transcript_sid)
        url: str = f"{self._intelligence}/v2/Transcripts/{transcript_sid}/Sentences"
        params: dict[str, str] | None = {"PageSize": "5000", "WordTimestamps": "true"}
        # Every page or none: half a transcript is no answer (a failure, asked again later).
        for _ in range(MAX_SENTENCE_PAGES):
            page = await self._json(creds, url, payloads.SentencePage, params=params)
            if page is None:  # a completed transcript's page is missing
                raise RecordingFetchFailed(PROVIDER, 404, "a sentences page is missing")
            for sentence in page.sentences:
                yield sentence
            following = self._next_page(page.meta)
            if following is None:
                return
            url, params = following, None
        raise RecordingFetchFailed(PROVIDER, None, f"more than {MAX_SENTENCE_PAGES} pages of sentences")

    def _next_page(self, meta: payloads.Meta | None) -> str | None:
        """The next page, if any. Paging URLs come from Twilio's answer: one on another origin than the
        one we are configured for is not followed, and the transcript is not taken without it."""
        if meta is None or not meta.next_page_url:
            return None
        ours, theirs = urlsplit(self._intelligence), urlsplit(meta.next_page_url)
        if (theirs.scheme, theirs.netloc) != (ours.scheme, ours.netloc):
            raise RecordingFetchFailed(PROVIDER, None, "a sentences page is on another origin")
        return meta.next_page_url
