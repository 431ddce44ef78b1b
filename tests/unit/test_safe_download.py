"""The SSRF guard of ingest downloads. DNS is a table and the network an httpx MockTransport, so a
refused address is never contacted, even if the guard were wrong: the transport records every attempt."""

from __future__ import annotations

import httpx
import pytest

from tether_relay.providers.addresses import is_public
from tether_relay.providers.download import DownloadRefused, SafeDownloader

PUBLIC = "93.184.216.34"
AUDIO = b"ID3" + b"\x00" * 100


class Network:
    def __init__(self, dns: dict[str, list[str]], responses: dict[str, httpx.Response]) -> None:
        self.dns = dns
        self.responses = responses
        self.contacted: list[str] = []

    async def resolve(self, host: str, port: int) -> list[str]:
        return self.dns.get(host, [])

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.contacted.append(f"{request.url.host}{request.url.path}")
        response = self.responses.get(f"{request.headers['host']}{request.url.path}")
        return response if response is not None else httpx.Response(404)

    def downloader(self, *, allow_private: bool = False, max_bytes: int = 10_000) -> SafeDownloader:
        client = httpx.AsyncClient(transport=httpx.MockTransport(self.handle), follow_redirects=False)
        return SafeDownloader(
            client, allow_private=allow_private, max_bytes=max_bytes, timeout_seconds=5, resolver=self.resolve
        )


def audio(body: bytes = AUDIO, content_type: str = "audio/mpeg") -> httpx.Response:
    return httpx.Response(200, content=body, headers={"content-type": content_type})


async def test_a_public_https_url_is_downloaded_from_the_checked_address() -> None:
    net = Network({"vendor.example": [PUBLIC]}, {"vendor.example/a.mp3": audio()})

    downloaded = await net.downloader().fetch("https://vendor.example/a.mp3")

    assert downloaded.content == AUDIO
    assert downloaded.content_type == "audio/mpeg"
    assert net.contacted == [f"{PUBLIC}/a.mp3"]  # pinned to the address that was checked


REFUSED_ADDRESSES = {
    "loopback v4": "127.0.0.1",
    "loopback v6": "::1",
    "private 10/8": "10.1.2.3",
    "private 172.16/12": "172.20.0.5",
    "private 192.168/16": "192.168.1.10",
    "link-local (cloud metadata)": "169.254.169.254",
    "link-local v6": "fe80::1",
    "unique-local v6": "fd00::1",
    "carrier-grade NAT": "100.64.0.1",
    "unspecified": "0.0.0.0",  # noqa: S104 - an address to refuse, not one to bind
    "multicast": "224.0.0.1",
    "reserved": "240.0.0.1",
    "v4-mapped loopback": "::ffff:127.0.0.1",
    "v4-mapped private": "::ffff:10.0.0.1",
}


@pytest.mark.parametrize("address", REFUSED_ADDRESSES.values(), ids=REFUSED_ADDRESSES.keys())
async def test_hosts_resolving_to_non_public_addresses_are_refused(address: str) -> None:
    net = Network({"internal.example": [address]}, {})

    with pytest.raises(DownloadRefused, match="not a public address"):
        await net.downloader().fetch("https://internal.example/a.mp3")
    assert net.contacted == []


async def test_one_private_address_among_public_ones_is_enough_to_refuse() -> None:
    net = Network({"mixed.example": [PUBLIC, "10.0.0.7"]}, {})

    with pytest.raises(DownloadRefused):
        await net.downloader().fetch("https://mixed.example/a.mp3")
    assert net.contacted == []


async def test_ip_literal_urls_are_checked_too() -> None:
    net = Network({"169.254.169.254": ["169.254.169.254"]}, {})

    with pytest.raises(DownloadRefused):
        await net.downloader().fetch("https://169.254.169.254/latest/meta-data")
    assert net.contacted == []


async def test_a_redirect_into_a_private_address_is_refused() -> None:
    redirect = httpx.Response(302, headers={"location": "https://metadata.internal/latest/meta-data"})
    net = Network(
        {"vendor.example": [PUBLIC], "metadata.internal": ["169.254.169.254"]},
        {"vendor.example/a.mp3": redirect},
    )

    with pytest.raises(DownloadRefused, match="not a public address"):
        await net.downloader().fetch("https://vendor.example/a.mp3")
    assert net.contacted == [f"{PUBLIC}/a.mp3"]


async def test_a_redirect_to_plain_http_is_refused() -> None:
    redirect = httpx.Response(301, headers={"location": "http://vendor.example/a.mp3"})
    net = Network({"vendor.example": [PUBLIC]}, {"vendor.example/a.mp3": redirect})

    with pytest.raises(DownloadRefused, match="https"):
        await net.downloader().fetch("https://vendor.example/a.mp3")


async def test_redirect_loops_end() -> None:
    loop = httpx.Response(302, headers={"location": "/a.mp3"})
    net = Network({"vendor.example": [PUBLIC]}, {"vendor.example/a.mp3": loop})

    with pytest.raises(DownloadRefused, match="too many redirects"):
        await net.downloader().fetch("https://vendor.example/a.mp3")
    assert len(net.contacted) == 6


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://vendor.example/a.mp3", "https"),
        ("ftp://vendor.example/a.mp3", "https"),
        ("https://user:pass@vendor.example/a.mp3", "credentials"),
        ("https://unknown.example/a.mp3", "resolve"),
        ("https://xn--a/a.mp3", "not valid"),
        ("https://\u2603\u2603.example/a.mp3", "not valid"),
        ("https://[::1/a.mp3", "not valid"),
        ("https://vendor.example:99999/a.mp3", "not valid"),
    ],
)
async def test_urls_we_do_not_fetch(url: str, reason: str) -> None:
    net = Network({"vendor.example": [PUBLIC]}, {})

    with pytest.raises(DownloadRefused, match=reason):
        await net.downloader().fetch(url)
    assert net.contacted == []


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (audio(content_type="text/html"), "audio"),
        (audio(b"x" * 10_001), "too large"),
        (httpx.Response(500), "500"),
        (httpx.Response(404), "404"),
    ],
)
async def test_what_a_url_serves_is_checked(response: httpx.Response, reason: str) -> None:
    net = Network({"vendor.example": [PUBLIC]}, {"vendor.example/a.mp3": response})

    with pytest.raises(DownloadRefused, match=reason):
        await net.downloader().fetch("https://vendor.example/a.mp3")


async def test_a_hostname_the_system_resolver_cannot_encode_is_refused() -> None:
    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(500)))
    downloader = SafeDownloader(client, allow_private=False, max_bytes=10, timeout_seconds=5)

    with pytest.raises(DownloadRefused, match="resolve"):
        await downloader.fetch(f"https://{'a' * 64}.example/a.mp3")  # a DNS label is at most 63 octets


async def test_allow_private_admits_http_and_private_addresses() -> None:
    net = Network({"files.internal": ["10.0.0.9"]}, {"files.internal/a.mp3": audio()})

    downloaded = await net.downloader(allow_private=True).fetch("http://files.internal/a.mp3")

    assert downloaded.content == AUDIO


def test_public_addresses_are_public() -> None:
    assert is_public(PUBLIC)
    assert is_public("2606:4700:4700::1111")
