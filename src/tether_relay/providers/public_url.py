"""Whether a URL someone else chose (an ingest's recording URL, a customer's webhook endpoint) may be
reached from here, and at which address: https only; no credentials in it; the host resolved once and
every address it resolves to globally routable (providers/addresses.py). The caller connects to exactly
the address returned (Host and TLS SNI keep the name), so a second DNS answer cannot swap in an internal
one. `allow_private` lifts the https and address rules for tests and closed networks."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

import httpx

from tether_relay.providers.addresses import is_public

Resolver = Callable[[str, int], Awaitable[list[str]]]


class UrlRefused(Exception):
    """The URL is not one we will connect to; the message says why, in words safe to show its owner."""


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def checked_address(url: httpx.URL, *, allow_private: bool, resolve: Resolver = system_resolver) -> str:
    """The address to connect to for `url`, or UrlRefused."""
    allowed = ("https", "http") if allow_private else ("https",)
    if url.scheme not in allowed:
        raise UrlRefused("the URL must be https")
    if not url.host or url.userinfo:
        raise UrlRefused("the URL must name a host and carry no credentials")
    if url.port is not None and not 0 < url.port < 65536:
        raise UrlRefused("the URL is not valid")
    try:
        addresses = await resolve(url.host, url.port or (443 if url.scheme == "https" else 80))
    except (OSError, UnicodeError):  # UnicodeError: a label the resolver cannot encode (over 63)
        raise UrlRefused("the host does not resolve") from None
    if not addresses:
        raise UrlRefused("the host does not resolve")
    if not allow_private and not all(is_public(a) for a in addresses):
        raise UrlRefused("the host is not a public address")
    return addresses[0]


async def check(url: str, *, allow_private: bool, resolve: Resolver = system_resolver) -> None:
    """UrlRefused unless `url` is one checked_address accepts (an endpoint being registered)."""
    try:
        await checked_address(httpx.URL(url), allow_private=allow_private, resolve=resolve)
    except (httpx.InvalidURL, UnicodeError):
        raise UrlRefused("the URL is not valid") from None


def pinned_request(
    http: httpx.AsyncClient,
    method: str,
    url: httpx.URL,
    address: str,
    *,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
) -> httpx.Request:
    """A request for `url` sent to `address` (checked_address's answer), the URL's name kept in the Host
    header and in TLS SNI."""
    return http.build_request(
        method,
        url.copy_with(host=address),
        headers={**(headers or {}), "Host": url.netloc.decode("ascii")},
        content=content,
        extensions={"sni_hostname": url.host},
    )
