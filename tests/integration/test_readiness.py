"""Readiness: a recording the provider is still making is a distinct 404 (RECORDING_NOT_READY, with
Retry-After), not "not found"; and every answer says where its transcript stands (transcriptionStatus).
docs/readiness.md maps each provider's own statuses to these."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import auth
from tests.factories import make_call, make_twilio_call
from tests.fakes.elevenlabs import ElevenLabsFake
from tests.fakes.twilio import TwilioFake, sid
from tests.integration.test_elevenlabs_and_sinch import ORG as VOICE_ORG
from tests.integration.test_elevenlabs_and_sinch import configure_elevenlabs
from tests.integration.test_twilio import AUDIO, ORG, configure, read
from tether_relay.runtime import Runtime


def assert_not_ready(response: httpx.Response) -> None:
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "RECORDING_NOT_READY"
    assert int(response.headers["retry-after"]) > 0


@pytest.mark.parametrize("status", ["initiated", "ringing", "in-progress"])
async def test_a_call_still_in_progress_is_not_ready(
    client: httpx.AsyncClient, runtime: Runtime, status: str
) -> None:
    call = await make_call(runtime, ORG, provider="sinch", audio=None, status=status)

    assert_not_ready(await read(client, call.id))


async def test_a_completed_call_without_a_recording_is_not_found(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    call = await make_call(runtime, ORG, provider="sinch", audio=None, status="completed")

    response = await read(client, call.id)

    assert response.status_code == 404
    assert response.json()["code"] == "RECORDING_NOT_FOUND"
    assert "retry-after" not in response.headers


@pytest.mark.parametrize(
    ("twilio_status", "code"),
    [
        ("processing", "RECORDING_NOT_READY"),
        ("in-progress", "RECORDING_NOT_READY"),
        ("absent", "RECORDING_NOT_FOUND"),
        ("deleted", "RECORDING_NOT_FOUND"),
    ],
)
async def test_twilio_recording_statuses(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake, twilio_status: str, code: str
) -> None:
    await configure(client, twilio)
    recording = twilio.add_recording(call_sid := sid("CA"), AUDIO, status=twilio_status)
    call = await make_twilio_call(runtime, ORG, call_sid, recording.sid)  # duration unknown: asks Twilio

    response = await read(client, call.id)

    assert response.status_code == 404
    assert response.json()["code"] == code


async def test_twilio_recording_not_known_yet_and_still_processing_is_not_ready(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    await configure(client, twilio)
    twilio.add_recording(call_sid := sid("CA"), AUDIO, status="processing")
    call = await make_twilio_call(runtime, ORG, call_sid, None)  # the recording webhook has not come

    assert_not_ready(await read(client, call.id))


@pytest.mark.parametrize(("conversation_status", "ready"), [("processing", True), ("failed", False)])
async def test_elevenlabs_conversation_still_processing_is_not_ready(
    client: httpx.AsyncClient,
    runtime: Runtime,
    elevenlabs: ElevenLabsFake,
    conversation_status: str,
    ready: bool,
) -> None:
    await configure_elevenlabs(client, elevenlabs)
    conversation = f"conv_{conversation_status}"
    elevenlabs.add(conversation, status=conversation_status)  # no audio yet
    call = await make_call(
        runtime, VOICE_ORG, provider="elevenlabs", provider_call_id=conversation, audio=None
    )

    response = await client.get(f"/api/calls/{call.id}/recording", headers=auth(VOICE_ORG))

    if ready:
        assert_not_ready(response)
    else:
        assert response.status_code == 404
        assert response.json()["code"] == "RECORDING_NOT_FOUND"


async def transcript_status_of(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake, setup: dict[str, Any]
) -> str:
    await configure(client, twilio, with_service=True)
    recording = twilio.add_recording(call_sid := sid("CA"), AUDIO)
    if "intelligence" in setup:
        twilio.add_intelligence_transcript(
            recording.sid, [(1, 0.5, 1.5, "Hello.")], status=setup["intelligence"]
        )
    if "fault" in setup:
        twilio.plan.add(setup["fault"], times=10, path_contains="/v2/Transcripts")
    call = await make_twilio_call(runtime, ORG, call_sid, recording.sid, duration=65.0)
    response = await read(client, call.id)
    assert response.status_code == 200, response.text
    status: str = response.json()["transcriptionStatus"]
    return status


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ({"intelligence": "completed"}, "ready"),
        ({"intelligence": "in-progress"}, "pending"),
        ({}, "pending"),  # no Transcript yet: Twilio has not created it
        ({"intelligence": "failed"}, "unavailable"),
        ({"fault": "500"}, "failed"),
    ],
)
async def test_transcription_status_of_each_state(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake, setup: dict[str, Any], expected: str
) -> None:
    assert await transcript_status_of(client, runtime, twilio, setup) == expected


async def test_a_transcript_that_came_with_the_call_is_ready_and_none_is_unavailable(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    with_one = await make_call(runtime, ORG)
    without = await make_call(runtime, ORG, transcription_data=None)

    assert (await read(client, with_one.id)).json()["transcriptionStatus"] == "ready"
    assert (await read(client, without.id)).json()["transcriptionStatus"] == "unavailable"
