"""Downloading a recording from a URL a client gave us (POST /api/calls/ingest), without letting that
URL reach inside our network (SSRF).

Every hop is checked the same way: https only; the host resolved once and every address it resolves to
must be globally routable (providers/addresses.py: IPv6 forms that carry an IPv4 address are judged by
that address too); the connection then goes to exactly the address that was checked (Host and
TLS SNI keep the name), so a second DNS answer cannot swap in an internal one. Redirects are followed by
hand, at most five, each re-checked. The body is capped in bytes and the whole download in time, and it
must be audio. `allow_private` (TETHER_INGEST_ALLOW_PRIVATE_URLS) lifts the https and address rules for
tests and closed networks.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from tether_relay.digits import parse_uint
from tether_relay.errors import ValidationFailed
from tether_relay.providers.addresses import is_public
from tether_relay.providers.audio import SNIFF_BYTES, sniff

MAX_REDIRECTS = 5
# An audio media type that fits the recordings.content_type column (64).
_AUDIO_TYPE = re.compile(r"audio/[a-z0-9][a-z0-9.+-]{0,57}")
Resolver = Callable[[str, int], Awaitable[list[str]]]


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


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


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
            address = await self._checked_address(target)
            request = self._http.build_request(
                "GET",
                target.copy_with(host=address),
                headers={"Host": target.netloc.decode("ascii")},
                extensions={"sni_hostname": target.host},
            )
            response = await self._http.send(request, stream=True)
            try:
                if response.is_redirect and "location" in response.headers:
                    url = str(target.join(response.headers["location"]))
                    continue
                return await self._body(response)
            finally:
                await response.aclose()
        raise DownloadRefused("too many redirects")

    async def _checked_address(self, url: httpx.URL) -> str:
        allowed = ("https", "http") if self._allow_private else ("https",)
        if url.scheme not in allowed:
            raise DownloadRefused("the URL must be https")
        if not url.host or url.userinfo:
            raise DownloadRefused("the URL must name a host and carry no credentials")
        if url.port is not None and not 0 < url.port < 65536:
            raise DownloadRefused("the URL is not valid")
        try:
            addresses = await self._resolve(url.host, url.port or (443 if url.scheme == "https" else 80))
        except (OSError, UnicodeError):  # UnicodeError: a label the resolver cannot encode (over 63)
            raise DownloadRefused("the host does not resolve") from None
        if not addresses:
            raise DownloadRefused("the host does not resolve")
        if not self._allow_private and not all(is_public(a) for a in addresses):
            raise DownloadRefused("the host is not a public address")
        return addresses[0]

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
