"""Jobs that do the first read's work ahead of it: a transcript a webhook says is final is cached before
anyone reads it (Sinch's transcript file), and an ElevenLabs conversation whose audio webhook never came
has its audio fetched into our bucket."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.conftest import auth, superadmin
from tests.fakes import senders
from tests.fakes.elevenlabs import ElevenLabsFake, conversation
from tests.integration.test_webhook_telephony import (
    ORG as SINCH_ORG,
)
from tests.integration.test_webhook_telephony import (
    SINCH_KEY,
    SINCH_SECRET,
    post_sinch,
    sinch_events,
)
from tests.jobs import make_jobs_due, until
from tether_relay.calls.models import Call, Recording
from tether_relay.runtime import Runtime
from tether_relay.storage.buckets import SINCH

EL_ORG = "org-el-warm"
EL_SECRET = "wsec_" + "c" * 40
AUDIO = b"ID3\x04" + bytes(range(256)) * 30


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"jobs_in_process": True, "job_retry_first_seconds": 0.2}


async def the_call(runtime: Runtime) -> Call:
    async with runtime.sessions() as session:
        return (await session.scalars(select(Call))).one()


async def test_a_sinch_transcript_is_cached_before_the_first_read(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    config = {"provider": "sinch", "sinchApplicationKey": SINCH_KEY, "sinchApplicationSecret": SINCH_SECRET}
    assert (
        await client.post("/api/calls/providers/config", json=config, headers=superadmin(SINCH_ORG))
    ).status_code == 200
    call_id = "5a1d2b7c-1234-4a62-9a3e-3e0a1d2b7c11"
    stem = f"calls/20260303100005_{SINCH_KEY}_{call_id}"
    store = runtime.buckets.get(SINCH)
    await store.put(f"{stem}.mp3", AUDIO, "audio/mpeg")
    transcript = {"segments": [{"speaker": "agent", "text": "Hello.", "start": 0.2}]}
    await store.put(f"{stem}-transcript.json", json.dumps(transcript).encode(), "application/json")

    for event in sinch_events(call_id):
        assert (await post_sinch(client, event)).status_code == 200

    async def cached() -> bool:
        return (await the_call(runtime)).transcription_status == "ready"

    await until(cached)  # no read has happened
    call = await the_call(runtime)
    assert call.transcription_text == "Agent: Hello."
    await store.delete(f"{stem}-transcript.json")  # the read no longer could fetch it: it is cached
    body = (await client.get(f"/api/calls/{call.id}/recording", headers=auth(SINCH_ORG))).json()
    assert body["transcriptionText"] == "Agent: Hello."


async def test_elevenlabs_audio_whose_webhook_never_came_is_fetched_by_a_job(
    client: httpx.AsyncClient, runtime: Runtime, elevenlabs: ElevenLabsFake
) -> None:
    config = {"elevenlabsWebhookSecret": EL_SECRET, "elevenlabsApiKey": elevenlabs.api_key}
    assert (
        await client.post("/api/calls/voice-ai/config", headers=superadmin(EL_ORG), json=config)
    ).status_code == 200
    elevenlabs.add("conv_no_audio_hook", audio=AUDIO)
    body, headers = senders.elevenlabs(
        senders.elevenlabs_transcription(conversation("conv_no_audio_hook")), EL_SECRET
    )
    assert (await client.post("/api/webhook/elevenlabs", content=body, headers=headers)).status_code == 200
    assert elevenlabs.plan.count("/audio") == 0  # the audio webhook gets its grace period first

    await make_jobs_due(runtime.engine)

    async def stored() -> bool:
        async with runtime.sessions() as session:
            recording = (await session.scalars(select(Recording))).one_or_none()
        return recording is not None and recording.storage_key is not None

    await until(stored)
    assert elevenlabs.plan.count("/audio") == 1
    call = await the_call(runtime)
    answer = (await client.get(f"/api/calls/{call.id}/recording", headers=auth(EL_ORG))).json()
    assert (await client.get(answer["audioUrl"])).content == AUDIO
    assert elevenlabs.plan.count("/audio") == 1  # the read used our copy
