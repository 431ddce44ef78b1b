"""The local store's signed media URLs: expiry, tampering, and HTTP Range (206/416)."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.conftest import auth
from tests.factories import AUDIO, make_call
from tests.integration.test_playback import RANGES, assert_ranged
from tether_relay.runtime import Runtime
from tether_relay.storage.local import LocalStore


async def signed_url(client: httpx.AsyncClient, runtime: Runtime) -> str:
    call = await make_call(runtime, "org-a")
    body = (await client.get(f"/api/calls/{call.id}/recording", headers=auth("org-a"))).json()
    url: str = body["audioUrl"]
    return url


def refused(response: httpx.Response) -> None:
    assert response.status_code == 403
    assert response.json() == {
        "success": False,
        "error": "This link is invalid or has expired",
        "code": "SIGNED_URL_INVALID",
    }


async def test_expired_url_is_refused(client: httpx.AsyncClient, runtime: Runtime) -> None:
    call = await make_call(runtime, "org-a")
    store = runtime.buckets.local("recordings")
    assert isinstance(store, LocalStore)
    recording = (await client.get(f"/api/calls/{call.id}/recording", headers=auth("org-a"))).json()
    key = httpx.URL(recording["audioUrl"]).path.removeprefix("/media/recordings/")

    expired = store.signed_url(key, 600, now=time.time() - 601)
    fresh = store.signed_url(key, 600)

    refused(await client.get(expired))
    assert (await client.get(fresh)).content == AUDIO


@pytest.mark.parametrize("position", [-1, -20])
async def test_changing_one_character_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, position: int
) -> None:
    url = await signed_url(client, runtime)
    chars = list(url)
    chars[position] = "A" if chars[position] != "A" else "B"
    changed = "".join(chars)
    assert changed != url

    refused(await client.get(changed))


async def test_url_for_another_object_or_bucket_is_refused(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    url = await signed_url(client, runtime)

    refused(await client.get(url.replace(".mp3?", ".wav?")))
    refused(await client.get(url.replace("/media/recordings/", "/media/sinch/")))
    refused(await client.get(url.replace("/media/recordings/", "/media/nowhere/")))
    refused(await client.get(url.split("?")[0]))


@pytest.mark.parametrize(
    ("expires", "signature"),
    [
        ("9" * 5000, "x"),  # more digits than int() parses
        ("\u00b2", "x"),  # "²".isdigit() is True, int("²") raises
        ("\u0661\u0662", "x"),  # Arabic-Indic digits
        ("-1", "x"),
        (None, "\u00e9t\u00e9"),  # compare_digest refuses non-ASCII str
        ("leading zero", ""),  # the same number, another URL: refused like any changed character
    ],
)
async def test_signed_url_parameters_a_client_mangled_are_refused(
    client: httpx.AsyncClient, runtime: Runtime, expires: str | None, signature: str
) -> None:
    url = httpx.URL(await signed_url(client, runtime))
    if expires == "leading zero":
        expires, signature = "0" + url.params["expires"], url.params["signature"]
    params = {"expires": expires or url.params["expires"], "signature": signature}

    refused(await client.get(url.copy_with(params=params)))


async def test_a_key_with_a_nul_byte_is_refused(client: httpx.AsyncClient, runtime: Runtime) -> None:
    url = httpx.URL(await signed_url(client, runtime))

    response = await client.get(url.copy_with(raw_path=url.raw_path.replace(b".mp3", b"%00.mp3")))

    assert response.status_code in (403, 404)
    assert response.json()["success"] is False


@pytest.mark.parametrize(
    ("range_header", "status", "content_range", "body"),
    [
        ("bytes=0-0", 206, f"bytes 0-0/{len(AUDIO)}", AUDIO[:1]),
        (
            f"bytes={len(AUDIO) - 1}-",
            206,
            f"bytes {len(AUDIO) - 1}-{len(AUDIO) - 1}/{len(AUDIO)}",
            AUDIO[-1:],
        ),
        ("bytes=-100", 206, f"bytes {len(AUDIO) - 100}-{len(AUDIO) - 1}/{len(AUDIO)}", AUDIO[-100:]),
        ("bytes=100-199", 206, f"bytes 100-199/{len(AUDIO)}", AUDIO[100:200]),
        (f"bytes={len(AUDIO)}-", 416, f"bytes */{len(AUDIO)}", None),
    ],
)
async def test_range_requests(
    client: httpx.AsyncClient,
    runtime: Runtime,
    range_header: str,
    status: int,
    content_range: str,
    body: bytes | None,
) -> None:
    url = await signed_url(client, runtime)

    response = await client.get(url, headers={"Range": range_header})

    assert response.status_code == status
    assert response.headers["content-range"] == content_range
    if body is not None:
        assert response.content == body
        assert response.headers["content-length"] == str(len(body))


async def test_full_download_advertises_ranges_and_no_caching(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    response = await client.get(await signed_url(client, runtime))

    assert response.status_code == 200
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-length"] == str(len(AUDIO))
    assert "no-store" in response.headers["cache-control"]


async def test_head_answers_without_a_body(client: httpx.AsyncClient, runtime: Runtime) -> None:
    response = await client.head(await signed_url(client, runtime))

    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(AUDIO))
    assert response.content == b""


@pytest.mark.parametrize("case", list(RANGES))
async def test_ranges_mean_what_they_mean_on_the_playback_route(
    client: httpx.AsyncClient, runtime: Runtime, case: str
) -> None:
    """The signed URL and the playback proxy answer every Range alike (one parser, one response): an
    unknown unit or a malformed range is ignored (200), not a plain-text 400; a 416 is in the envelope."""
    header, status, served = RANGES[case]
    url = await signed_url(client, runtime)

    assert_ranged(await client.get(url, headers={"Range": header}), status, served)


async def test_if_range_with_another_version_gets_the_whole_file(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    url = await signed_url(client, runtime)
    etag = (await client.get(url)).headers["etag"]

    assert (await client.get(url, headers={"Range": "bytes=0-9", "If-Range": etag})).content == AUDIO[:10]
    assert (await client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"x"'})).content == AUDIO


async def test_head_answers_the_headers_only(client: httpx.AsyncClient, runtime: Runtime) -> None:
    url = await signed_url(client, runtime)

    response = await client.head(url, headers={"Range": "bytes=0-9"})

    assert (response.status_code, response.headers["content-length"], response.content) == (206, "10", b"")
