"""Twilio audio is streamed from Twilio into the answer (api/streamed_json.py), never held whole. The first
MiB is read before answering, so a failure there is retried and answered like any other; a failure past
it can only cut the answer short, which the client sees as a broken transfer, never as valid JSON."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import auth
from tests.factories import make_twilio_call
from tests.fakes.twilio import TwilioFake, sid
from tests.integration.test_twilio import ORG, configure, decoded, read
from tests.processes import service_env, service_process
from tether_relay.runtime import Runtime
from tether_relay.settings import Settings

LARGE = b"ID3\x03" + random.Random(7).randbytes(5 * 1024 * 1024 + 1)  # past the read-ahead, not 3-aligned


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"provider_timeout_seconds": 5.0}


async def large_call(client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake, audio: bytes) -> str:
    await configure(client, twilio)
    recording = twilio.add_recording(call_sid := sid("CA"), audio)
    call = await make_twilio_call(runtime, ORG, call_sid, recording.sid, duration=65.0)
    return call.id


async def test_a_large_recording_streams_whole(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    call_id = await large_call(client, runtime, twilio, LARGE)

    response = await read(client, call_id)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert decoded(body) == LARGE
    assert body["recordingId"].startswith("RE")
    assert twilio.plan.count(".mp3") == 1


async def test_a_break_within_the_read_ahead_is_retried_and_answered_whole(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    audio = LARGE[: 1536 * 1024]  # the fake sends half (768 KiB) before dropping: inside the first MiB
    call_id = await large_call(client, runtime, twilio, audio)
    twilio.plan.add("truncate", times=1, path_contains=".mp3")

    response = await read(client, call_id)

    assert response.status_code == 200
    assert decoded(response.json()) == audio
    assert twilio.plan.count(".mp3") == 2


async def read_streamed(http: httpx.AsyncClient, url: str) -> tuple[int, bytes, bool]:
    """Status, the bytes received, and whether the transfer broke off."""
    received = bytearray()
    status = 0
    try:
        async with http.stream("GET", url, headers=auth(ORG)) as response:
            status = response.status_code
            async for chunk in response.aiter_bytes():
                received += chunk
    except httpx.RemoteProtocolError:
        return status, bytes(received), True
    return status, bytes(received), False


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_break_past_the_read_ahead_cuts_the_answer_short_and_the_next_read_is_whole(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, twilio: TwilioFake, tmp_path: Path
) -> None:
    call_id = await large_call(client, runtime, twilio, LARGE)
    twilio.plan.add("truncate", times=1, path_contains=".mp3")  # half of 5 MiB: past the read-ahead
    env = service_env(
        settings.database_url,
        settings.data_dir,
        twilio_api_base_url=twilio.base_url,
        twilio_intelligence_base_url=twilio.base_url,
        jobs_in_process="false",  # the read alone: the archive job would download the recording too
    )
    url = f"/api/calls/{call_id}/recording"
    with service_process(env, tmp_path) as service:
        async with httpx.AsyncClient(base_url=service.url, timeout=30) as http:
            status, received, broke = await read_streamed(http, url)
            assert status == 200
            assert broke  # the chunked answer never ended properly
            with pytest.raises(json.JSONDecodeError):
                json.loads(received)
            assert len(received) > 1024 * 1024  # it did stream: the read-ahead went out

            again = await http.get(url, headers=auth(ORG))
    assert again.status_code == 200
    assert decoded(again.json()) == LARGE
    assert twilio.plan.count(".mp3") == 2
