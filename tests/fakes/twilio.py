"""A loopback fake of Twilio's REST API: 2010 Recordings (metadata, media, call-scoped lists, legacy
Transcriptions) and Voice Intelligence v2 Transcripts and Sentences, in the wire format of
shared/reference/providers.md §1 (RFC 2822 dates, string durations, the two list envelopes, the legacy
error body). Basic auth with the account's auth token or an API key pair."""

from __future__ import annotations

import asyncio
import base64
import secrets
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.fakes.faults import FaultInjection, FaultPlan
from tests.fakes.loopback import running

DATE = "Tue, 03 Mar 2026 10:00:05 +0000"


def sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def error(status: int) -> dict[str, Any]:
    code = {404: 20404, 401: 20003}.get(status, 20500)
    message = {404: "The requested resource was not found", 401: "Authenticate"}.get(status, "Internal error")
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


@dataclass
class FakeRecording:
    sid: str
    call_sid: str
    audio: bytes
    status: str = "completed"
    duration: str | None = "65"
    channels: int = 2
    date_created: str = DATE


@dataclass
class FakeIntelligenceTranscript:
    sid: str
    status: str
    sentences: list[dict[str, Any]]


@dataclass
class TwilioFake:
    base_url: str = ""
    account_sid: str = field(default_factory=lambda: sid("AC"))
    auth_token: str = field(default_factory=lambda: secrets.token_hex(16))
    api_key_sid: str = field(default_factory=lambda: sid("SK"))
    api_key_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    service_sid: str = field(default_factory=lambda: sid("GA"))
    recordings: dict[str, FakeRecording] = field(default_factory=dict)
    transcriptions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    intelligence: dict[str, FakeIntelligenceTranscript] = field(default_factory=dict)
    plan: FaultPlan = field(default_factory=FaultPlan)
    # Answer media requests with a redirect to "signed storage" on another origin, as Twilio may.
    redirect_media: bool = False
    storage_saw_authorization: list[bool] = field(default_factory=list)
    # Point paging links (next_page_url) at this origin instead of our own.
    paging_origin: str | None = None
    # Media bodies sent whole to a client still connected, by RecordingSid (a download done to completion).
    media_served: Counter[str] = field(default_factory=Counter)
    # Once this many media requests arrived, later ones wait until `media_gate` is set.
    hold_media_after: int | None = None
    media_gate: threading.Event = field(default_factory=threading.Event)
    # Held requests up to this number had a client that is gone: they fail (nothing is served).
    media_abandoned_up_to: int = 0
    _media_started: int = 0

    @property
    def media_started(self) -> int:
        return self._media_started

    # -- test set-up ---------------------------------------------------------------------------------

    def add_recording(self, call_sid: str, audio: bytes, **fields: Any) -> FakeRecording:
        recording = FakeRecording(fields.pop("sid", sid("RE")), call_sid, audio, **fields)
        self.recordings[recording.sid] = recording
        return recording

    def add_legacy_transcription(
        self, recording_sid: str, text: str | None, status: str = "completed"
    ) -> None:
        self.transcriptions.setdefault(recording_sid, []).append(
            {
                "account_sid": self.account_sid,
                "api_version": "2008-08-01",
                "date_created": DATE,
                "date_updated": DATE,
                "duration": "65",
                "price": "-0.05000",
                "price_unit": "USD",
                "recording_sid": recording_sid,
                "sid": sid("TR"),
                "status": status,
                "transcription_text": text,
                "type": "fast",
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Transcriptions/{sid('TR')}.json",
            }
        )

    def add_intelligence_transcript(
        self, recording_sid: str, sentences: list[tuple[int, float, float, str]], status: str = "completed"
    ) -> FakeIntelligenceTranscript:
        rows = [
            {
                "media_channel": channel,
                "sentence_index": i,
                "start_time": start,
                "end_time": end,
                "transcript": text,
                "sid": sid("GX"),
                "confidence": 0.93,
                "words": spread_words(text, start, end),
            }
            for i, (channel, start, end, text) in enumerate(sentences)
        ]
        transcript = FakeIntelligenceTranscript(sid("GT"), status, rows)
        self.intelligence[recording_sid] = transcript
        return transcript

    def revoke_credentials(self) -> None:
        self.auth_token = secrets.token_hex(16)
        self.api_key_secret = secrets.token_urlsafe(24)

    def credentials_config(self, *, with_service: bool = False, api_key: bool = False) -> dict[str, str]:
        """The body of POST /api/calls/providers/config for this account."""
        body = {"provider": "twilio", "twilioAccountSid": self.account_sid}
        if api_key:
            body |= {"twilioApiKeySid": self.api_key_sid, "twilioApiKeySecret": self.api_key_secret}
        else:
            body["twilioAuthToken"] = self.auth_token
        if with_service:
            body["twilioServiceSid"] = self.service_sid
        return body

    def reset(self) -> None:
        self.recordings.clear()
        self.transcriptions.clear()
        self.intelligence.clear()
        self.plan.reset()
        self.redirect_media = False
        self.storage_saw_authorization.clear()
        self.media_served.clear()
        self.hold_media_after = None
        self.media_gate.clear()
        self.media_abandoned_up_to = 0
        self._media_started = 0
        self.auth_token = secrets.token_hex(16)
        self.api_key_secret = secrets.token_urlsafe(24)

    # -- the API -------------------------------------------------------------------------------------

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return False
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return (user, password) in {
            (self.account_sid, self.auth_token),
            (self.api_key_sid, self.api_key_secret),
        }

    def _guard(self, request: Request) -> Response | None:
        if not self._authorised(request):
            return JSONResponse(error(401), status_code=401)
        if request.path_params.get("account") not in (None, self.account_sid):
            return JSONResponse(error(404), status_code=404)
        return None

    def _recording_json(self, r: FakeRecording, *, call_scoped: bool = False) -> dict[str, Any]:
        base = f"/2010-04-01/Accounts/{self.account_sid}"
        uri = (
            f"{base}/Calls/{r.call_sid}/Recordings/{r.sid}.json"
            if call_scoped
            else f"{base}/Recordings/{r.sid}.json"
        )
        body: dict[str, Any] = {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "call_sid": r.call_sid,
            "conference_sid": None,
            "channels": r.channels,
            "date_created": r.date_created,
            "date_updated": DATE,
            "start_time": r.date_created,
            "price": "-0.00250",
            "price_unit": "USD",
            "duration": r.duration,
            "sid": r.sid,
            "source": "OutboundAPI",
            "status": r.status,
            "error_code": None,
            "encryption_details": None,
            "uri": uri,
        }
        if call_scoped:
            body["track"] = "both"
        else:
            body["subresource_uris"] = {"transcriptions": f"{base}/Recordings/{r.sid}/Transcriptions.json"}
            body["media_url"] = f"https://api.twilio.com{base}/Recordings/{r.sid}"
        return body

    def _page(self, key: str, items: list[dict[str, Any]], path: str) -> dict[str, Any]:
        uri = f"{path}?PageSize=50&Page=0"
        return {
            key: items,
            "end": max(len(items) - 1, 0),
            "first_page_uri": uri,
            "next_page_uri": None,
            "previous_page_uri": None,
            "page": 0,
            "page_size": 50,
            "start": 0,
            "uri": uri,
        }

    async def recording(self, request: Request) -> Response:
        if (refused := self._guard(request)) is not None:
            return refused
        found = self.recordings.get(request.path_params["sid"])
        if found is None:
            return JSONResponse(error(404), status_code=404)
        return JSONResponse(self._recording_json(found))

    async def delete_recording(self, request: Request) -> Response:
        """DELETE …/Recordings/{Sid}.json: 204, or the legacy 404 body."""
        if (refused := self._guard(request)) is not None:
            return refused
        if self.recordings.pop(request.path_params["sid"], None) is None:
            return JSONResponse(error(404), status_code=404)
        return Response(status_code=204)

    async def media(self, request: Request) -> Response:
        if (refused := self._guard(request)) is not None:
            return refused
        found = self.recordings.get(request.path_params["sid"])
        if found is None or found.status != "completed":
            return JSONResponse(error(404), status_code=404)
        if self.redirect_media:
            # Another origin (localhost, not 127.0.0.1): a client must not carry our credentials there.
            storage = self.base_url.replace("127.0.0.1", "localhost")
            return RedirectResponse(f"{storage}/signed-storage/{found.sid}?X-Signature=abc", status_code=307)
        self._media_started += 1
        number = self._media_started
        if self.hold_media_after is not None and number > self.hold_media_after:
            await asyncio.to_thread(self.media_gate.wait, 120)
            if number <= self.media_abandoned_up_to:  # its client was killed while it was held
                return JSONResponse(error(503), status_code=503)
        media_type = "audio/mpeg" if request.path_params["ext"] == "mp3" else "audio/x-wav"
        return Response(
            found.audio, media_type=media_type, background=BackgroundTask(self._served, found.sid)
        )

    async def _served(self, recording_sid: str) -> None:
        self.media_served[recording_sid] += 1

    async def signed_storage(self, request: Request) -> Response:
        self.storage_saw_authorization.append("authorization" in request.headers)
        found = self.recordings.get(request.path_params["sid"])
        return Response(
            found.audio if found else b"", media_type="audio/mpeg", status_code=200 if found else 404
        )

    async def call_recordings(self, request: Request) -> Response:
        if (refused := self._guard(request)) is not None:
            return refused
        call_sid = request.path_params["call"]
        items = [
            self._recording_json(r, call_scoped=True)
            for r in self.recordings.values()
            if r.call_sid == call_sid
        ]
        return JSONResponse(self._page("recordings", items, request.url.path))

    async def legacy_transcriptions(self, request: Request) -> Response:
        if (refused := self._guard(request)) is not None:
            return refused
        items = self.transcriptions.get(request.path_params["sid"], [])
        return JSONResponse(self._page("transcriptions", items, request.url.path))

    async def intelligence_transcripts(self, request: Request) -> Response:
        if (refused := self._guard(request)) is not None:
            return refused
        source = request.query_params.get("SourceSid")
        service = request.query_params.get("ServiceSid")
        found = self.intelligence.get(source or "") if service == self.service_sid else None
        items = (
            []
            if found is None
            else [
                {
                    "account_sid": self.account_sid,
                    "service_sid": self.service_sid,
                    "sid": found.sid,
                    "date_created": "2026-03-03T10:02:00Z",
                    "date_updated": "2026-03-03T10:02:30Z",
                    "status": found.status,
                    "channel": {"media_properties": {"source_sid": source}},
                    "data_logging": False,
                    "language_code": "en-US",
                    "customer_key": None,
                    "media_start_time": None,
                    "duration": 65,
                    "url": f"{self.base_url}/v2/Transcripts/{found.sid}",
                    "redaction": False,
                    "links": {"sentences": f"{self.base_url}/v2/Transcripts/{found.sid}/Sentences"},
                }
            ]
        )
        return JSONResponse(
            {"transcripts": items, "meta": self._meta("transcripts", 0, 50, None, "/v2/Transcripts")}
        )

    async def sentences(self, request: Request) -> Response:
        if (refused := self._guard(request)) is not None:
            return refused
        transcript = next(
            (t for t in self.intelligence.values() if t.sid == request.path_params["sid"]), None
        )
        if transcript is None:
            return JSONResponse(error(404), status_code=404)
        size = min(int(request.query_params.get("PageSize", "50")), 5000)
        page = int(request.query_params.get("Page", "0"))
        rows = transcript.sentences[page * size : (page + 1) * size]
        if request.query_params.get("WordTimestamps") != "true":  # words are sent only when asked for
            rows = [{**row, "words": []} for row in rows]
        more = (page + 1) * size < len(transcript.sentences)
        path = request.url.path
        meta = self._meta("sentences", page, size, more, path)
        if more and "WordTimestamps" in request.query_params:
            meta["next_page_url"] += f"&WordTimestamps={request.query_params['WordTimestamps']}"
        return JSONResponse({"sentences": rows, "meta": meta})

    def _meta(self, key: str, page: int, size: int, more: bool | None, path: str) -> dict[str, Any]:
        url = f"{self.base_url}{path}?PageSize={size}&Page={page}"
        return {
            "key": key,
            "page": page,
            "page_size": size,
            "first_page_url": f"{self.base_url}{path}?PageSize={size}&Page=0",
            "url": url,
            "previous_page_url": None,
            "next_page_url": f"{self.paging_origin or self.base_url}{path}?PageSize={size}&Page={page + 1}"
            if more
            else None,
        }

    def asgi(self) -> FaultInjection:
        account = "/2010-04-01/Accounts/{account}"
        app = Starlette(
            routes=[
                Route(account + "/Recordings/{sid}.json", self.recording, methods=["GET"]),
                Route(account + "/Recordings/{sid}.json", self.delete_recording, methods=["DELETE"]),
                Route(account + "/Recordings/{sid}/Transcriptions.json", self.legacy_transcriptions),
                Route(account + "/Recordings/{sid}.{ext}", self.media),
                Route(account + "/Calls/{call}/Recordings.json", self.call_recordings),
                Route("/v2/Transcripts", self.intelligence_transcripts),
                Route("/v2/Transcripts/{sid}/Sentences", self.sentences),
                Route("/signed-storage/{sid}", self.signed_storage),
            ]
        )
        return FaultInjection(app, self.plan, error)


@pytest.fixture(scope="session")
def twilio_server() -> Iterator[TwilioFake]:
    with running(TwilioFake()) as fake:
        yield fake


@pytest.fixture
def twilio(twilio_server: TwilioFake) -> TwilioFake:
    twilio_server.reset()
    return twilio_server


def spread_words(text: str, start: float, end: float) -> list[dict[str, Any]]:
    """Voice Intelligence's `words` for a sentence: each word of the text, the sentence's time shared
    out evenly (a fake's timing, close enough for tests that mute words)."""
    words = text.split()
    step = (end - start) / max(len(words), 1)
    return [
        {"word": word, "start_time": round(start + i * step, 3), "end_time": round(start + (i + 1) * step, 3)}
        for i, word in enumerate(words)
    ]
