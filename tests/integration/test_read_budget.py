"""Reads are bounded in time (issue 11, class 3). One read budget covers everything a read asks of its
providers up to the first bytes of each answer, every retry and backoff included; past the read-ahead a
body is held to the progress rule instead, so a drip is cut and a large healthy download is not.

The budget is shrunk by settings (1.5 s instead of 40 s) so the tests stay fast; the code path is the one
the defaults take. A provider that stalls or drips answers RECORDING_FETCH_FAILED within the budget plus a
small slack, however many retries the policy allows; a transcript cut by the budget fails the transcript,
never the recording."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import auth
from tests.factories import make_call
from tests.fakes.elevenlabs import ElevenLabsFake
from tests.fakes.twilio import TwilioFake
from tests.integration.test_elevenlabs_and_sinch import configure_elevenlabs
from tests.integration.test_twilio import AUDIO, assert_error, decoded, known_call, read
from tests.integration.test_twilio import ORG as TWILIO_ORG
from tests.integration.test_twilio_streaming import read_streamed
from tests.processes import service_env, service_process
from tether_relay.runtime import Runtime
from tether_relay.settings import Settings

BUDGET = 1.5
SLACK = 1.5  # scheduling on a shared machine; a drip or stall left alone lasts 3 s or more per attempt
SHRUNK = {
    "provider_read_budget_seconds": BUDGET,
    "provider_timeout_seconds": 5.0,  # httpx's own per-read timeout must not be what cuts
    "provider_retry_attempts": 5,  # plenty of retries: the budget must bound all of them
    "provider_progress_window_seconds": 0.5,
    "provider_progress_min_bytes": 16 * 1024,
    "provider_circuit_failures": 100,
    "transcript_retry_seconds": 0,
}
LARGE = b"ID3\x03" + random.Random(11).randbytes(5 * 1024 * 1024)
EL_ORG = "org-voice"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return dict(SHRUNK)


async def timed(request: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await request
    return response, time.monotonic() - started


# Every request of the fault's path misbehaves, on every retry: drip = a byte every 50 ms for 3 s;
# slow = no byte at all for 5 s (a stall).
FAULTS = [
    ("drip", ".json", 0.05),
    ("drip", ".mp3", 0.05),
    ("slow", ".json", 5.0),
    ("slow", ".mp3", 5.0),
]


@pytest.mark.parametrize(("kind", "path", "delay"), FAULTS, ids=[f"{k}-{p}" for k, p, _ in FAULTS])
async def test_a_twilio_read_whose_provider_drips_or_stalls_fails_within_the_budget(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake, kind: Any, path: str, delay: float
) -> None:
    call, _ = await known_call(client, runtime, twilio)  # metadata (.json) is read, then the media (.mp3)
    twilio.plan.add(kind, times=100, path_contains=path, delay=delay)

    response, seconds = await timed(read(client, call.id))

    assert_error(response, 500, "RECORDING_FETCH_FAILED")
    assert seconds < BUDGET + SLACK


@pytest.mark.parametrize("kind", ["drip", "slow"])
async def test_the_playback_proxy_open_is_held_to_the_same_budget(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake, kind: Any
) -> None:
    call, _ = await known_call(client, runtime, twilio)
    playback_url = (await read(client, call.id)).json()["playbackUrl"]
    twilio.plan.add(kind, times=100, path_contains=".mp3", delay=0.05 if kind == "drip" else 5.0)

    response, seconds = await timed(client.get(playback_url))

    assert_error(response, 500, "RECORDING_FETCH_FAILED")
    assert seconds < BUDGET + SLACK


@pytest.mark.parametrize("kind", ["drip", "slow"])
async def test_an_elevenlabs_audio_read_that_drips_or_stalls_fails_within_the_budget(
    client: httpx.AsyncClient, runtime: Runtime, elevenlabs: ElevenLabsFake, kind: Any
) -> None:
    await configure_elevenlabs(client, elevenlabs)
    elevenlabs.add("conv_drip", audio=AUDIO)
    call = await make_call(runtime, EL_ORG, provider="elevenlabs", provider_call_id="conv_drip", audio=None)
    elevenlabs.plan.add(kind, times=100, path_contains="/audio", delay=0.05 if kind == "drip" else 5.0)

    response, seconds = await timed(client.get(f"/api/calls/{call.id}/recording", headers=auth(EL_ORG)))

    assert_error(response, 500, "RECORDING_FETCH_FAILED")
    assert seconds < BUDGET + SLACK


@pytest.mark.parametrize("kind", ["drip", "slow"])
async def test_a_twilio_transcript_cut_by_the_budget_fails_the_transcript_not_the_recording(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake, kind: Any
) -> None:
    call, recording = await known_call(client, runtime, twilio, with_service=True)
    twilio.add_intelligence_transcript(recording.sid, [(1, 0.5, 1.0, "Hello.")])
    twilio.plan.add(kind, times=100, path_contains="/v2/Transcripts", delay=0.05 if kind == "drip" else 5.0)

    response, seconds = await timed(read(client, call.id))

    assert response.status_code == 200, response.text
    assert decoded(response.json()) == AUDIO
    assert response.json()["transcriptionStatus"] == "failed"
    assert seconds < BUDGET + SLACK
    twilio.plan.reset()  # the provider is well again: the failed transcript is fetched on a later read
    assert (await read(client, call.id)).json()["transcriptionText"] == "User: Hello."


async def test_an_elevenlabs_transcript_cut_by_the_budget_fails_the_transcript_not_the_recording(
    client: httpx.AsyncClient, runtime: Runtime, elevenlabs: ElevenLabsFake
) -> None:
    await configure_elevenlabs(client, elevenlabs)
    elevenlabs.add("conv_slow_transcript")
    call = await make_call(
        runtime,
        EL_ORG,
        provider="elevenlabs",
        provider_call_id="conv_slow_transcript",
        transcription_data=None,
    )
    elevenlabs.plan.add("drip", times=100, path_contains="/conv_slow_transcript", delay=0.05)

    response, seconds = await timed(client.get(f"/api/calls/{call.id}/recording", headers=auth(EL_ORG)))

    assert response.status_code == 200, response.text
    assert response.json()["audioUrl"]
    assert response.json()["transcriptionStatus"] == "failed"
    assert seconds < BUDGET + SLACK


async def test_a_large_healthy_twilio_download_longer_than_the_budget_is_not_cut(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    call, recording = await known_call(client, runtime, twilio)
    twilio.recordings[recording.sid].audio = LARGE
    # 256 KiB at once, then 64 KiB every 40 ms (1.6 MiB/s): the first MiB inside the budget, the whole
    # 5 MiB in about 3 s, twice the budget.
    twilio.plan.add("pace", path_contains=".mp3", delay=0.04, head=256 * 1024, chunk=64 * 1024)

    response, seconds = await timed(read(client, call.id))

    assert response.status_code == 200, response.text[:300]
    assert decoded(response.json()) == LARGE
    assert seconds > BUDGET  # it did run past the budget, and was not cut


async def test_a_large_healthy_elevenlabs_download_longer_than_the_budget_is_not_cut(
    client: httpx.AsyncClient, runtime: Runtime, elevenlabs: ElevenLabsFake
) -> None:
    await configure_elevenlabs(client, elevenlabs)
    elevenlabs.add("conv_large", audio=LARGE)
    call = await make_call(runtime, EL_ORG, provider="elevenlabs", provider_call_id="conv_large", audio=None)
    elevenlabs.plan.add("pace", path_contains="/audio", delay=0.04, head=256 * 1024, chunk=64 * 1024)

    response, seconds = await timed(client.get(f"/api/calls/{call.id}/recording", headers=auth(EL_ORG)))

    assert response.status_code == 200, response.text[:300]
    assert seconds > BUDGET
    stored = await client.get(response.json()["audioUrl"])
    assert stored.content == LARGE


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_service_process_cuts_a_drip_before_and_past_the_read_ahead(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, twilio: TwilioFake, tmp_path: Path
) -> None:
    """The same rules in a real service process (shrunk settings, the defaults' code path): a drip on the
    metadata answers RECORDING_FETCH_FAILED within the budget; a drip that starts past the media's
    read-ahead is cut by the progress rule, which the client sees as a broken transfer, not a hang."""
    early, _ = await known_call(client, runtime, twilio)
    late, late_recording = await known_call(client, runtime, twilio)
    twilio.recordings[late_recording.sid].audio = LARGE[: 2 * 1024 * 1024]
    env = service_env(
        settings.database_url,
        settings.data_dir,
        twilio_api_base_url=twilio.base_url,
        twilio_intelligence_base_url=twilio.base_url,
        jobs_in_process="false",  # the read alone: the archive job would download the recording too
        **{name: str(value) for name, value in SHRUNK.items()},
    )
    with service_process(env, tmp_path) as service:
        async with httpx.AsyncClient(base_url=service.url, timeout=30) as http:
            twilio.plan.add("drip", times=100, path_contains=".json", delay=0.05)
            response, seconds = await timed(
                http.get(f"/api/calls/{early.id}/recording", headers=auth(TWILIO_ORG))
            )
            assert_error(response, 500, "RECORDING_FETCH_FAILED")
            assert seconds < BUDGET + SLACK

            twilio.plan.reset()
            # 1.5 MiB at once (past the 1 MiB read-ahead), then 16 bytes every 50 ms.
            twilio.plan.add("pace", path_contains=".mp3", delay=0.05, head=1536 * 1024, chunk=16)
            started = time.monotonic()
            status, received, broke = await read_streamed(http, f"/api/calls/{late.id}/recording")
            seconds = time.monotonic() - started
    assert status == 200
    assert broke  # cut short: the answer had started
    assert len(received) > 1024 * 1024
    assert seconds < BUDGET + 2 * 0.5 + SLACK  # two progress windows at most past the budget


def test_with_the_defaults_a_stalled_or_dripping_read_ends_within_60_seconds() -> None:
    """The tests above shrink the settings; the promise is about the defaults: the budget, then at most
    two progress windows for a drip that starts just as the read-ahead is done."""
    fields = Settings.model_fields
    budget = fields["provider_read_budget_seconds"].default
    window = fields["provider_progress_window_seconds"].default
    assert budget + 2 * window <= 60
