"""The playback proxy, GET /api/calls/{callId}/recording/audio: Range edge cases, ETag, headers, playback
tokens (expiry, another call, confusion with bearer JWTs), CORS, and every kind of source: the local
store, a real S3-compatible server, and Twilio's stream (credentials never leave the server)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import JWT_SECRET, auth, token_for
from tests.factories import AUDIO, make_call, make_twilio_call
from tests.fakes.twilio import TwilioFake, sid
from tests.integration.test_twilio import configure
from tether_relay.auth.playback import PlaybackTokens
from tether_relay.runtime import Runtime

SIZE = len(AUDIO)


def audio_url(call_id: str) -> str:
    return f"/api/calls/{call_id}/recording/audio"


async def play(client: httpx.AsyncClient, call_id: str, **headers: str) -> httpx.Response:
    return await client.get(audio_url(call_id), headers={**auth("org-a"), **headers})


# Range header → status, and for a 206 the first and last byte served.
RANGES: dict[str, tuple[str, int, tuple[int, int] | None]] = {
    "first byte": ("bytes=0-0", 206, (0, 0)),
    "last byte": (f"bytes={SIZE - 1}-{SIZE - 1}", 206, (SIZE - 1, SIZE - 1)),
    "suffix": ("bytes=-100", 206, (SIZE - 100, SIZE - 1)),
    "suffix longer than the file": (f"bytes=-{SIZE * 2}", 206, (0, SIZE - 1)),
    "open-ended": ("bytes=1000-", 206, (1000, SIZE - 1)),
    "end past the file is clamped": (f"bytes=10-{SIZE * 5}", 206, (10, SIZE - 1)),
    "middle": ("bytes=300-1299", 206, (300, 1299)),
    "several ranges: the first is served": ("bytes=5-9, 20-29", 206, (5, 9)),
    "start past the end": (f"bytes={SIZE}-", 416, None),
    "empty suffix": ("bytes=-0", 416, None),
    "another unit is ignored": ("items=0-5", 200, None),
    "malformed is ignored": ("bytes=abc", 200, None),
    "backwards is ignored": ("bytes=9-5", 200, None),
    "digits with an underscore are malformed": ("bytes=1_0-20", 200, None),
    # Numbers longer than int() parses (4,300 digits) are positions past any file, not a 500.
    "start of 5,000 digits": ("bytes=" + "9" * 5000 + "-", 416, None),
    "end of 5,000 digits is clamped": ("bytes=10-" + "9" * 5000, 206, (10, SIZE - 1)),
    "suffix of 5,000 digits": ("bytes=-" + "9" * 5000, 206, (0, SIZE - 1)),
    "start of 19 digits": ("bytes=" + "1" * 19 + "-", 416, None),
}


def assert_ranged(response: httpx.Response, status: int, served: tuple[int, int] | None) -> None:
    """The answer to one of RANGES: its status, and its bytes or its 416 in the envelope."""
    assert response.status_code == status, response.text
    assert response.headers["accept-ranges"] == "bytes"
    if status == 416:
        assert response.headers["content-range"] == f"bytes */{SIZE}"
        assert response.json()["code"] == "RANGE_NOT_SATISFIABLE"
        return
    first, last = served or (0, SIZE - 1)
    assert response.content == AUDIO[first : last + 1]


@pytest.mark.parametrize("case", list(RANGES))
async def test_ranges_of_a_stored_recording(client: httpx.AsyncClient, runtime: Runtime, case: str) -> None:
    header, status, served = RANGES[case]
    call = await make_call(runtime, "org-a")

    response = await play(client, call.id, Range=header)

    assert_ranged(response, status, served)
    if status == 416:
        return
    first, last = served or (0, SIZE - 1)
    assert response.headers["content-length"] == str(last - first + 1)
    assert response.headers["content-type"] == "audio/mpeg"
    assert response.headers["cache-control"] == "private, no-store"
    if status == 206:
        assert response.headers["content-range"] == f"bytes {first}-{last}/{SIZE}"
    else:
        assert "content-range" not in response.headers


async def test_etag_and_if_none_match(client: httpx.AsyncClient, runtime: Runtime) -> None:
    call = await make_call(runtime, "org-a")
    first = await play(client, call.id)
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert etag.endswith('"')

    again = await play(client, call.id, **{"If-None-Match": etag})
    other = await play(client, call.id, **{"If-None-Match": '"something-else"'})

    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert other.status_code == 200
    assert other.content == AUDIO


async def test_the_playback_url_of_the_recording_answer_plays_without_other_credentials(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    call = await make_call(runtime, "org-a")
    answer = (await client.get(f"/api/calls/{call.id}/recording", headers=auth("org-a"))).json()

    response = await client.get(answer["playbackUrl"], headers={"Range": "bytes=0-9"})

    assert response.status_code == 206
    assert response.content == AUDIO[:10]


async def test_an_expired_playback_token_is_refused(client: httpx.AsyncClient, runtime: Runtime) -> None:
    call = await make_call(runtime, "org-a")
    keys = runtime.keys
    expired = PlaybackTokens(keys.playback_key, 60, clock=lambda: 1_000_000.0).mint("org-a", call.id)

    response = await client.get(f"{audio_url(call.id)}?token={expired}")

    assert response.status_code == 401
    assert response.json()["code"] == "PLAYBACK_TOKEN_INVALID"


async def test_a_playback_token_opens_only_the_call_it_names(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    mine = await make_call(runtime, "org-a")
    other = await make_call(runtime, "org-a")
    token = runtime.playback_tokens.mint("org-a", mine.id)

    misused = await client.get(f"{audio_url(other.id)}?token={token}")
    used = await client.get(f"{audio_url(mine.id)}?token={token}")

    assert misused.status_code == 401
    assert misused.json()["code"] == "PLAYBACK_TOKEN_INVALID"
    assert used.status_code == 200


@pytest.mark.parametrize(
    "kind", ["bearer JWT as a playback token", "playback token as a bearer", "none", "junk"]
)
async def test_credentials_of_the_wrong_kind_are_refused(
    client: httpx.AsyncClient, runtime: Runtime, kind: str
) -> None:
    call = await make_call(runtime, "org-a")
    playback_token = runtime.playback_tokens.mint("org-a", call.id)
    url, headers = {
        "bearer JWT as a playback token": (f"{audio_url(call.id)}?token={token_for('org-a')}", {}),
        "playback token as a bearer": (audio_url(call.id), {"Authorization": f"Bearer {playback_token}"}),
        "none": (audio_url(call.id), {}),
        "junk": (f"{audio_url(call.id)}?token=not.a.token", {}),
    }[kind]

    response = await client.get(url, headers=headers)

    assert response.status_code == 401
    assert response.json()["success"] is False


async def test_a_playback_token_is_not_signed_with_the_jwt_secret(runtime: Runtime) -> None:
    import jwt

    call_token = runtime.playback_tokens.mint("org-a", "c" * 24)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(call_token, JWT_SECRET, algorithms=["HS256"], audience="tether:playback")


async def test_twilio_audio_streams_through_the_proxy_with_ranges(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    await configure(client, twilio)
    recording = twilio.add_recording(call_sid := sid("CA"), AUDIO)
    call = await make_twilio_call(runtime, "org-twilio", call_sid, recording.sid, duration=65.0)
    headers = auth("org-twilio")

    whole = await client.get(audio_url(call.id), headers=headers)
    middle = await client.get(audio_url(call.id), headers={**headers, "Range": "bytes=5000-5999"})
    tail = await client.get(audio_url(call.id), headers={**headers, "Range": "bytes=-10"})

    assert whole.status_code == 200
    assert whole.content == AUDIO
    assert whole.headers["content-length"] == str(SIZE)
    assert whole.headers["etag"] == f'"{recording.sid}"'
    assert (middle.status_code, middle.content) == (206, AUDIO[5000:6000])
    assert middle.headers["content-range"] == f"bytes 5000-5999/{SIZE}"
    assert (tail.status_code, tail.content) == (206, AUDIO[-10:])
    for response in (whole, middle, tail):
        exposed = " ".join(f"{k}: {v}" for k, v in response.headers.items())
        assert twilio.auth_token not in exposed
        assert twilio.account_sid not in exposed


@pytest.fixture
async def s3_client(s3_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=s3_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        client.runtime = s3_app.state.runtime  # type: ignore[attr-defined]
        yield client


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_ranges_of_a_recording_in_a_real_s3_bucket(s3_client: httpx.AsyncClient) -> None:
    runtime: Runtime = s3_client.runtime  # type: ignore[attr-defined]
    call = await make_call(runtime, "org-a")

    whole = await play(s3_client, call.id)
    middle = await play(s3_client, call.id, Range="bytes=100-199")
    past = await play(s3_client, call.id, Range=f"bytes={SIZE + 5}-")

    assert (whole.status_code, whole.content) == (200, AUDIO)
    assert (middle.status_code, middle.content) == (206, AUDIO[100:200])
    assert middle.headers["content-range"] == f"bytes 100-199/{SIZE}"
    assert past.status_code == 416


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"cors_origins": "https://support.example.com, https://console.example.com/"}


async def test_cors_lets_a_configured_origin_seek_and_read_the_range_headers(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    call = await make_call(runtime, "org-a")
    origin = {"Origin": "https://console.example.com"}

    preflight = await client.options(
        audio_url(call.id),
        headers={**origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "range"},
    )
    ranged = await play(client, call.id, Range="bytes=0-3", **origin)
    stranger = await play(client, call.id, Origin="https://evil.example.net")

    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://console.example.com"
    assert "range" in preflight.headers["access-control-allow-headers"].lower()
    assert ranged.headers["access-control-allow-origin"] == "https://console.example.com"
    exposed = ranged.headers["access-control-expose-headers"].lower()
    assert {"content-range", "accept-ranges", "content-length", "etag"} <= set(
        exposed.replace(" ", "").split(",")
    )
    assert "access-control-allow-origin" not in stranger.headers


@pytest.mark.parametrize(
    ("if_range", "status"),
    [("current", 206), ('"stale-etag"', 200), ("Wed, 21 Oct 2015 07:28:00 GMT", 200), ('W/"weak"', 200)],
)
async def test_if_range_serves_the_range_only_for_the_current_version(
    client: httpx.AsyncClient, runtime: Runtime, if_range: str, status: int
) -> None:
    """A client resuming with bytes of another version gets the whole file (RFC 9110 §13.1.5)."""
    call = await make_call(runtime, "org-a")
    etag = (await play(client, call.id)).headers["etag"]

    response = await play(
        client, call.id, Range="bytes=0-9", **{"If-Range": etag if if_range == "current" else if_range}
    )

    assert response.status_code == status
    assert response.content == (AUDIO[:10] if status == 206 else AUDIO)
