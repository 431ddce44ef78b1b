"""Downloading a recording from a URL a client gave us (POST /api/calls/ingest), without letting that
URL reach inside our network (SSRF).

Every hop is checked by providers/public_url.py (https, a host whose every address is global, the
connection pinned to the address checked). Redirects are followed by hand, at most five, each re-checked.
The body is capped in bytes and the whole download in time, and it must be audio. `allow_private`
(TETHER_INGEST_ALLOW_PRIVATE_URLS) lifts the https and address rules for tests and closed networks.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

import httpx

from tether_relay.digits import parse_uint
from tether_relay.errors import ValidationFailed
from tether_relay.providers.audio import SNIFF_BYTES, sniff
from tether_relay.providers.public_url import (
    Resolver,
    UrlRefused,
    checked_address,
    pinned_request,
    system_resolver,
)

MAX_REDIRECTS = 5
# An audio media type that fits the recordings.content_type column (64).
_AUDIO_TYPE = re.compile(r"audio/[a-z0-9][a-z0-9.+-]{0,57}")


class DownloadRefused(ValidationFailed):
    """The recording URL is not one we will fetch, or what it served is not a recording we accept."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"recording URL refused: {reason}",
            details=[{"field": "recording", "message": reason, "type": "url"}],
        )


@dataclass(frozen=True, slots=True)
class Downloaded:
    content: bytes
    content_type: str


class SafeDownloader:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        allow_private: bool,
        max_bytes: int,
        timeout_seconds: float,
        resolver: Resolver = system_resolver,
    ) -> None:
        self._http = http  # must not follow redirects itself: every hop is checked here
        self._allow_private = allow_private
        self._max_bytes = max_bytes
        self._timeout = timeout_seconds
        self._resolve = resolver

    async def fetch(self, url: str) -> Downloaded:
        try:
            async with asyncio.timeout(self._timeout):
                return await self._follow(url)
        except TimeoutError:
            raise DownloadRefused("the download took too long") from None
        except (httpx.InvalidURL, UnicodeError):  # UnicodeError: a hostname that is not valid IDNA
            raise DownloadRefused("the URL is not valid") from None
        except httpx.HTTPError:
            raise DownloadRefused("the recording could not be downloaded") from None

    async def _follow(self, url: str) -> Downloaded:
        for _ in range(MAX_REDIRECTS + 1):
            target = httpx.URL(url)
            try:
                address = await checked_address(
                    target, allow_private=self._allow_private, resolve=self._resolve
                )
            except UrlRefused as refused:
                raise DownloadRefused(str(refused)) from None
            request = pinned_request(self._http, "GET", target, address)
            response = await self._http.send(request, stream=True)
            try:
                if response.is_redirect and "location" in response.headers:
                    url = str(target.join(response.headers["location"]))
                    continue
                return await self._body(response)
            finally:
                await response.aclose()
        raise DownloadRefused("too many redirects")

    async def _body(self, response: httpx.Response) -> Downloaded:
        if response.status_code != 200:
            raise DownloadRefused(f"the server answered {response.status_code}")
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if not _AUDIO_TYPE.fullmatch(content_type):
            raise DownloadRefused("the URL does not serve audio")
        declared = parse_uint(response.headers.get("content-length", ""))
        if declared is not None and declared > self._max_bytes:
            raise DownloadRefused("the recording is too large")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self._max_bytes:
                raise DownloadRefused("the recording is too large")
            chunks.append(chunk)
        content = b"".join(chunks)
        if sniff(content[:SNIFF_BYTES]) is None:  # the content type said audio; the bytes must agree
            raise DownloadRefused("the URL does not serve audio")
        return Downloaded(content, content_type)
