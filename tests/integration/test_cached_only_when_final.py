"""Only a final, valid provider answer is cached (issue 11, class 2). Each adapter classifies what its
provider said as final (cached), still processing or failed (both asked again later); the cache accepts
only what the recording answer can render; a provider's own pushed transcript wins over a cached
"unavailable"; a body that is not audio is a failed fetch, whatever its status, and nothing is stored."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from tests.conftest import auth, superadmin
from tests.factories import AUDIO, make_call, make_twilio_call
from tests.fakes import senders
from tests.fakes.elevenlabs import ElevenLabsFake, conversation
from tests.fakes.twilio import TwilioFake, sid
from tests.integration.test_elevenlabs_and_sinch import ORG as VOICE_ORG
from tests.integration.test_elevenlabs_and_sinch import configure_elevenlabs, stored_recording
from tests.integration.test_twilio import ORG as TWILIO_ORG
from tests.integration.test_twilio import configure
from tether_relay.calls.models import Call, Recording
from tether_relay.providers.twilio import client as twilio_client
from tether_relay.runtime import Runtime
from tether_relay.storage.buckets import RECORDINGS, SINCH

NOT_AUDIO = {
    "json": b'{"code": 20404, "message": "The requested resource was not found", "status": 404}',
    "html": b"<!DOCTYPE html><html><body>Sign in to continue</body></html>",
    "xml": b'<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>',
    "empty": b"",
    "text": b"ID",  # shorter than any audio header
}


async def read(client: httpx.AsyncClient, call_id: str, organization: str) -> dict[str, Any]:
    response = await client.get(f"/api/calls/{call_id}/recording", headers=auth(organization))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def due_again(runtime: Runtime, call_id: str) -> None:
    """As if TETHER_TRANSCRIPT_RETRY_SECONDS had passed."""
    async with runtime.sessions() as session:
        await session.execute(update(Call).where(Call.id == call_id).values(transcript_retry_after=None))
        await session.commit()


async def cached(runtime: Runtime, call_id: str) -> tuple[Any, ...]:
    async with runtime.sessions() as session:
        call = await session.get(Call, call_id)
    assert call is not None
    return call.transcription_status, call.transcription_fetched_at, call.transcription_data


# -- Twilio Voice Intelligence: a missing sentences page ----------------------------------------------


@pytest.mark.parametrize("page", [0, 1], ids=["first-page", "later-page"])
async def test_a_missing_sentences_page_is_not_cached(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake, page: int
) -> None:
    await configure(client, twilio, with_service=True)
    call_sid = sid("CA")
    recording = twilio.add_recording(call_sid, AUDIO, duration="5")
    sentences = [(1 + i % 2, float(i), i + 0.5, f"sentence {i}") for i in range(5001)]  # two pages
    twilio.add_intelligence_transcript(recording.sid, sentences)
    call = await make_twilio_call(runtime, TWILIO_ORG, call_sid, recording.sid)
    twilio.plan.add("404", path_contains="/Sentences", after=page, times=10)

    first = await read(client, call.id, TWILIO_ORG)

    assert (first["transcriptionStatus"], first["transcriptionText"], first["transcriptionData"]) == (
        "failed",
        None,
        None,
    )
    status, fetched_at, data = await cached(runtime, call.id)
    assert (status, fetched_at, data) == ("failed", None, None)  # not final: asked again later

    twilio.plan.reset()
    await due_again(runtime, call.id)
    later = await read(client, call.id, TWILIO_ORG)

    assert later["transcriptionStatus"] == "ready"
    assert len(later["transcriptionData"]) == 5001


@pytest.mark.parametrize("pages", ["next page on another origin", "more pages than we follow"])
async def test_a_transcript_whose_pages_we_do_not_follow_is_not_cached(
    client: httpx.AsyncClient,
    runtime: Runtime,
    twilio: TwilioFake,
    pages: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Page one of several is half a transcript, whatever the reason the rest is not read."""
    await configure(client, twilio, with_service=True)
    call_sid = sid("CA")
    recording = twilio.add_recording(call_sid, AUDIO, duration="5")
    twilio.add_intelligence_transcript(recording.sid, [(1, float(i), i + 0.5, f"s {i}") for i in range(5001)])
    call = await make_twilio_call(runtime, TWILIO_ORG, call_sid, recording.sid)
    if pages == "next page on another origin":
        twilio.paging_origin = twilio.base_url.replace("127.0.0.1", "localhost")
    else:
        monkeypatch.setattr(twilio_client, "MAX_SENTENCE_PAGES", 1)

    first = await read(client, call.id, TWILIO_ORG)

    assert (first["transcriptionStatus"], first["transcriptionData"]) == ("failed", None)
    assert (await cached(runtime, call.id))[:2] == ("failed", None)  # not final: asked again later
    twilio.paging_origin = None
    monkeypatch.undo()
    await due_again(runtime, call.id)
    assert len((await read(client, call.id, TWILIO_ORG))["transcriptionData"]) == 5001


# -- ElevenLabs: no API key, then the provider's own transcript -----------------------------------------


@pytest.fixture
async def webhook_only(client: httpx.AsyncClient) -> str:
    """An organisation with the ElevenLabs webhook secret and no API key (the issue's reproduction)."""
    secret = "wsec_" + "c" * 40
    response = await client.post(
        "/api/calls/voice-ai/config", headers=superadmin(VOICE_ORG), json={"elevenlabsWebhookSecret": secret}
    )
    assert response.status_code == 200
    return secret


async def test_no_api_key_is_not_final_and_the_pushed_transcript_is_kept(
    client: httpx.AsyncClient, runtime: Runtime, webhook_only: str
) -> None:
    audio = senders.elevenlabs_audio("conv_nokey", AUDIO)
    body, headers = senders.elevenlabs(audio, webhook_only)
    call_id = (await client.post("/api/webhook/elevenlabs", content=body, headers=headers)).json()["callId"]

    first = await read(client, call_id, VOICE_ORG)
    assert (first["transcriptionStatus"], first["transcriptionText"]) == ("failed", None)

    pushed = senders.elevenlabs_transcription(conversation("conv_nokey"))
    body, headers = senders.elevenlabs(pushed, webhook_only)
    answer = await client.post("/api/webhook/elevenlabs", content=body, headers=headers)
    assert answer.status_code == 200

    later = await read(client, call_id, VOICE_ORG)
    assert later["transcriptionStatus"] == "ready"
    assert later["transcriptionText"].startswith("Agent: Hi, how can I help?")


@pytest.mark.parametrize("cached_status", ["unavailable", "failed", "pending"])
async def test_the_providers_own_transcript_wins_over_any_cached_non_transcript(
    client: httpx.AsyncClient, runtime: Runtime, webhook_only: str, cached_status: str
) -> None:
    call = await make_call(
        runtime,
        VOICE_ORG,
        provider="elevenlabs",
        provider_call_id="conv_wins",
        transcription_data=None,
        transcription_status=cached_status,
        transcription_fetched_at=None if cached_status != "unavailable" else runtime_now(),
    )

    pushed = senders.elevenlabs_transcription(conversation("conv_wins"))
    body, headers = senders.elevenlabs(pushed, webhook_only)
    assert (await client.post("/api/webhook/elevenlabs", content=body, headers=headers)).status_code == 200

    later = await read(client, call.id, VOICE_ORG)
    assert later["transcriptionStatus"] == "ready"
    assert later["transcriptionText"].startswith("Agent: Hi, how can I help?")


def runtime_now() -> Any:
    from tether_relay.db import utcnow

    return utcnow()


# -- bodies that are not audio ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", NOT_AUDIO, ids=NOT_AUDIO.keys())
async def test_twilio_media_that_is_not_audio_is_a_fetch_failure(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake, kind: str
) -> None:
    await configure(client, twilio)
    call_sid = sid("CA")
    recording = twilio.add_recording(call_sid, NOT_AUDIO[kind], duration="5")
    call = await make_twilio_call(runtime, TWILIO_ORG, call_sid, recording.sid)

    for path in ("recording", "recording/audio"):
        answer = await client.get(f"/api/calls/{call.id}/{path}", headers=auth(TWILIO_ORG))
        assert answer.status_code == 500, answer.text
        assert answer.json()["code"] == "RECORDING_FETCH_FAILED"
        assert base64.b64encode(NOT_AUDIO[kind][:8]).decode() not in answer.text or not NOT_AUDIO[kind]


@pytest.mark.parametrize("kind", NOT_AUDIO, ids=NOT_AUDIO.keys())
async def test_elevenlabs_audio_that_is_not_audio_is_not_stored(
    client: httpx.AsyncClient, runtime: Runtime, elevenlabs: ElevenLabsFake, kind: str
) -> None:
    await configure_elevenlabs(client, elevenlabs)
    conversation_id = f"conv_notaudio_{kind}"
    elevenlabs.add(conversation_id, audio=NOT_AUDIO[kind] or None)
    call = await make_call(
        runtime, VOICE_ORG, provider="elevenlabs", provider_call_id=conversation_id, audio=None
    )

    answer = await client.get(f"/api/calls/{call.id}/recording", headers=auth(VOICE_ORG))

    assert answer.status_code in (404, 500)
    assert answer.json()["code"] in ("RECORDING_FETCH_FAILED", "RECORDING_NOT_FOUND")
    assert [o async for o in runtime.buckets.get(RECORDINGS).listing()] == []
    async with runtime.sessions() as session:
        rows = await session.scalar(select(func.count()).select_from(Recording))
    assert rows == 0


@pytest.mark.parametrize("kind", [k for k in NOT_AUDIO if NOT_AUDIO[k]])
async def test_an_audio_webhook_that_is_not_audio_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, webhook_only: str, kind: str
) -> None:
    event = senders.elevenlabs_audio("conv_webhook_" + kind, NOT_AUDIO[kind])
    body, headers = senders.elevenlabs(event, webhook_only)

    answer = await client.post("/api/webhook/elevenlabs", content=body, headers=headers)

    assert (answer.status_code, answer.json()["code"]) == (400, "VALIDATION_ERROR")
    assert [o async for o in runtime.buckets.get(RECORDINGS).listing()] == []


# -- what is cached must be renderable ------------------------------------------------------------------

UNRENDERABLE = {
    "int-2^64": b'{"results": [{"channel": 18446744073709551616, "text": "hi"}]}',
    "int-nested": b'{"meta": {"ids": [1, 2, 99999999999999999999999]}, "text": "hi"}',
    "int-negative": b'{"value": -9223372036854775809, "text": "hi"}',
    "nan": b'{"segments": [{"speaker": "agent", "text": "hi", "start": NaN}]}',
    "infinity": b'[{"role": "agent", "message": "hi", "timestamp": Infinity}]',
    "deep": b'{"a": ' * 300 + b"1" + b"}" * 300,
    # PostgreSQL keeps JSON numbers as numeric and gives these back as integers beyond 64 bits
    "float-1e20": b'{"segments": [{"speaker": "agent", "text": "hi", "start": 1e20}]}',
    "float-1e308": b'[{"role": "agent", "message": "hi", "timestamp": 1e308}]',
}


async def test_a_transcript_neither_database_stores_as_sent_is_cached_storable(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """A NUL or a lone surrogate in a provider's transcript: PostgreSQL refused the row (a 500, then
    "unavailable"); both are replaced by U+FFFD, on both databases alike."""
    call = await make_call(runtime, VOICE_ORG, provider="sinch", transcription_data=None)
    recording = await stored_recording(runtime, call.id)
    assert recording.storage_key is not None
    transcript_key = recording.storage_key.removesuffix(".mp3") + "-transcript.json"
    document = b'{"segments": [{"speaker": "agent", "text": "a\\u0000b\\ud800c"}]}'
    await runtime.buckets.get(SINCH).put(transcript_key, document, "application/json")

    for _ in range(2):
        body = await read(client, call.id, VOICE_ORG)
        assert (body["transcriptionStatus"], body["transcriptionText"]) == ("ready", "Agent: a\ufffdb\ufffdc")


@pytest.mark.parametrize("document", UNRENDERABLE.values(), ids=UNRENDERABLE.keys())
async def test_a_transcript_the_answer_cannot_render_is_never_cached(
    client: httpx.AsyncClient, runtime: Runtime, document: bytes
) -> None:
    call = await make_call(runtime, VOICE_ORG, provider="sinch", transcription_data=None)
    recording = await stored_recording(runtime, call.id)
    assert recording.storage_key is not None
    transcript_key = recording.storage_key.removesuffix(".mp3") + "-transcript.json"
    await runtime.buckets.get(SINCH).put(transcript_key, document, "application/json")

    for _ in range(2):  # every read answers, the first and the later ones
        body = await read(client, call.id, VOICE_ORG)
        assert (body["transcriptionStatus"], body["transcriptionData"]) == ("failed", None)
        await due_again(runtime, call.id)
    assert (await cached(runtime, call.id))[1] is None  # never final

    await runtime.buckets.get(SINCH).put(
        transcript_key, json.dumps({"segments": [{"speaker": "agent", "text": "Fixed."}]}).encode(), "x"
    )
    assert (await read(client, call.id, VOICE_ORG))["transcriptionText"] == "Agent: Fixed."
