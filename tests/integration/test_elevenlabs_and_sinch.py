"""ElevenLabs and Sinch calls end to end through the HTTP API: transcripts fetched once and cached,
ElevenLabs audio recovered from the API when its webhook was lost, Sinch transcripts read from the bucket."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from sqlalchemy import select

from tests.conftest import auth, superadmin
from tests.factories import AUDIO, make_call
from tests.fakes.elevenlabs import ElevenLabsFake
from tether_relay.calls.models import Call, Recording
from tether_relay.runtime import Runtime
from tether_relay.storage.buckets import SINCH

ORG = "org-voice"


async def configure_elevenlabs(client: httpx.AsyncClient, elevenlabs: ElevenLabsFake) -> None:
    response = await client.post(
        "/api/calls/voice-ai/config",
        headers=superadmin(ORG),
        json={"aiVoiceProvider": "elevenlabs", "elevenlabsApiKey": elevenlabs.api_key},
    )
    assert response.status_code == 200, response.text


async def stored_recording(runtime: Runtime, call_id: str) -> Recording:
    async with runtime.sessions() as session:
        return (await session.scalars(select(Recording).where(Recording.call_id == call_id))).one()


async def read(client: httpx.AsyncClient, call_id: str) -> dict[str, object]:
    response = await client.get(f"/api/calls/{call_id}/recording", headers=auth(ORG))
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def test_elevenlabs_transcript_and_call_details_are_fetched_once(
    client: httpx.AsyncClient, runtime: Runtime, elevenlabs: ElevenLabsFake
) -> None:
    await configure_elevenlabs(client, elevenlabs)
    elevenlabs.add("conv_01jxyz", direction="inbound")
    # As the post_call_audio webhook leaves a call: audio in R2, nothing else known yet.
    call = await make_call(
        runtime,
        ORG,
        provider="elevenlabs",
        provider_call_id="conv_01jxyz",
        direction=None,
        from_number=None,
        to_number=None,
        duration=None,
        transcription_data=None,
    )

    first = await read(client, call.id)
    second = await read(client, call.id)

    assert first["transcriptionData"] == [
        {"role": "agent", "message": "Hi, how can I help?", "timestamp": 0.0, "end": 4.0},
        {"role": "user", "message": "I want to check my order.", "timestamp": 3.0, "end": 8.0},
        {"role": "agent", "message": "It shipped this morning.", "timestamp": 7.0, "end": 65.0},
    ]
    assert first["transcriptionText"] == (
        "Agent: Hi, how can I help?\nUser: I want to check my order.\nAgent: It shipped this morning."
    )
    assert second["transcriptionData"] == first["transcriptionData"]
    # The conversation's phone call fills what the webhook did not say (inbound: from the external number).
    assert (second["direction"], second["from"], second["to"]) == ("inbound", "+15552223333", "+15550001111")
    assert (await client.get(str(first["audioUrl"]))).content == AUDIO
    assert elevenlabs.plan.count() == 1


async def test_lost_audio_webhook_is_recovered_from_the_conversation(
    client: httpx.AsyncClient, runtime: Runtime, elevenlabs: ElevenLabsFake
) -> None:
    await configure_elevenlabs(client, elevenlabs)
    elevenlabs.add("conv_noaudio", audio=b"ID3-conversation-audio", direction="outbound")
    call = await make_call(
        runtime,
        ORG,
        provider="elevenlabs",
        provider_call_id="conv_noaudio",
        audio=None,
        transcription_data=None,
    )

    first = await read(client, call.id)
    second = await read(client, call.id)

    assert (await client.get(str(first["audioUrl"]))).content == b"ID3-conversation-audio"
    assert (await client.get(str(second["audioUrl"]))).content == b"ID3-conversation-audio"
    assert first["recordingId"] == second["recordingId"]
    assert elevenlabs.plan.count("/audio") == 1  # stored in R2 on the first read, signed from there after
    assert elevenlabs.plan.count() == 2  # plus the one conversation fetch


async def test_elevenlabs_without_audio_or_key_is_a_400(client: httpx.AsyncClient, runtime: Runtime) -> None:
    call = await make_call(runtime, ORG, provider="elevenlabs", provider_call_id="conv_x", audio=None)

    response = await client.get(f"/api/calls/{call.id}/recording", headers=auth(ORG))

    assert response.status_code == 400
    assert response.json()["code"] == "ELEVENLABS_CREDENTIALS_MISSING"


async def test_conversation_still_processing_is_not_cached(
    client: httpx.AsyncClient, runtime: Runtime, elevenlabs: ElevenLabsFake
) -> None:
    await configure_elevenlabs(client, elevenlabs)
    elevenlabs.add("conv_busy", status="processing")
    call = await make_call(
        runtime, ORG, provider="elevenlabs", provider_call_id="conv_busy", transcription_data=None
    )

    body = await read(client, call.id)
    await read(client, call.id)

    assert body["transcriptionText"] is None
    assert elevenlabs.plan.count() == 1  # not again inside the retry window
    async with runtime.sessions() as session:
        stored = await session.get(Call, call.id)
    assert stored is not None
    assert stored.transcription_status == "pending"
    assert stored.transcription_fetched_at is None


SINCH_TRANSCRIPTS = {
    "segments with roles": (
        {
            "segments": [
                {"speaker": "agent", "text": "Hello from Sinch.", "start": 0.4},
                {"speaker": "customer", "text": "Hi!", "start": 1.9, "end": 2.3},
            ]
        },
        [  # an end the file leaves out is the next segment's start
            {"role": "agent", "message": "Hello from Sinch.", "timestamp": 0.4, "end": 1.9},
            {"role": "user", "message": "Hi!", "timestamp": 1.9, "end": 2.3},
        ],
        "Agent: Hello from Sinch.\nUser: Hi!",
    ),
    "unknown shape kept whole": (
        {"callId": "abc", "locale": "en-US", "text": "Hello from Sinch. Hi!"},
        {"callId": "abc", "locale": "en-US", "text": "Hello from Sinch. Hi!"},
        "Hello from Sinch. Hi!",
    ),
    "segments without speakers": (
        {"transcript": [{"text": "Hello from Sinch."}, {"text": "Hi!"}]},
        {"transcript": [{"text": "Hello from Sinch."}, {"text": "Hi!"}]},
        "Hello from Sinch.\nHi!",
    ),
}


@pytest.mark.parametrize(
    ("document", "data", "text"), SINCH_TRANSCRIPTS.values(), ids=SINCH_TRANSCRIPTS.keys()
)
async def test_sinch_transcript_is_read_from_beside_the_recording_once(
    client: httpx.AsyncClient, runtime: Runtime, document: object, data: object, text: str
) -> None:
    call = await make_call(runtime, ORG, provider="sinch", transcription_data=None)
    recording = await stored_recording(runtime, call.id)
    assert recording.storage_key is not None
    transcript_key = recording.storage_key.removesuffix(".mp3") + "-transcript.json"
    store = runtime.buckets.get(SINCH)
    await store.put(transcript_key, json.dumps(document).encode(), "application/json")

    first = await read(client, call.id)
    await store.delete(transcript_key)  # the cache, not the bucket, answers from now on
    second = await read(client, call.id)

    assert first["transcriptionData"] == data
    assert first["transcriptionText"] == text
    assert (second["transcriptionData"], second["transcriptionText"]) == (data, text)


async def test_sinch_transcript_that_is_not_json_never_fails_the_recording(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    call = await make_call(runtime, ORG, provider="sinch", transcription_data=None)
    recording = await stored_recording(runtime, call.id)
    assert recording.storage_key is not None
    await runtime.buckets.get(SINCH).put(
        recording.storage_key.removesuffix(".mp3") + "-transcript.json", b"\x00 not json", "application/json"
    )

    body = await read(client, call.id)

    assert body["transcriptionText"] is None
    assert (await client.get(str(body["audioUrl"]))).content == AUDIO


async def test_elevenlabs_key_reaches_no_response_or_log_line(
    client: httpx.AsyncClient, runtime: Runtime, elevenlabs: ElevenLabsFake, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await configure_elevenlabs(client, elevenlabs)
    key = elevenlabs.api_key
    elevenlabs.add("conv_leak")
    elevenlabs.api_key = "sk_rotated"  # the provider now refuses our key
    call = await make_call(runtime, ORG, provider="elevenlabs", provider_call_id="conv_leak", audio=None)
    texts = [
        (await client.get(f"/api/calls/{call.id}/recording", headers=auth(ORG))).text,
        (await client.get("/api/calls/voice-ai/config", headers=auth(ORG))).text,
    ]

    assert '"PROVIDER_AUTH_FAILED"' in texts[0]
    for text in [*texts, caplog.text]:
        assert key not in text
