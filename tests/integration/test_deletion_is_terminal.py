"""Deletion is terminal (issue 11, class 1): once DELETE …/recording has answered its receipt, nothing
brings the recording, the transcript or what is derived from it back: not a read that was in flight, not
a provider's webhook that arrives later, in any order, once or repeatedly. Late events are recorded (so
the provider's redeliveries are acknowledged) and applied as no-ops; call facts stay."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import auth
from tests.factories import AUDIO, make_call
from tests.fakes import senders
from tests.fakes.elevenlabs import ElevenLabsFake, conversation
from tests.fakes.twilio import TwilioFake, sid
from tests.integration.test_elevenlabs_and_sinch import ORG as VOICE_ORG
from tests.integration.test_elevenlabs_and_sinch import configure_elevenlabs
from tests.integration.test_twilio import ORG as TWILIO_ORG
from tests.integration.test_twilio import configure
from tests.integration.test_webhook_elevenlabs import ORG as HOOK_ORG
from tests.integration.test_webhook_elevenlabs import configured, send  # noqa: F401 - fixture
from tests.integration.test_webhook_telephony import ORG as TEL_ORG
from tests.integration.test_webhook_telephony import (
    RECORDING,
    post_sinch,
    post_twilio,
    sinch_events,
    sinch_org,  # noqa: F401 - fixture
    twilio_events,
    twilio_org,  # noqa: F401 - fixture
)
from tether_relay.calls.models import Call, Recording
from tether_relay.runtime import Runtime
from tether_relay.storage.buckets import RECORDINGS, SINCH
from tether_relay.webhooks.models import WebhookEvent


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"provider_timeout_seconds": 10.0}


async def delete(client: httpx.AsyncClient, call_id: str, organization: str) -> httpx.Response:
    response = await client.delete(f"/api/calls/{call_id}/recording", headers=auth(organization))
    assert response.status_code == 200, response.text
    return response


async def delete_mid_read(client: httpx.AsyncClient, call_id: str, organization: str) -> httpx.Response:
    """The read's answer, when DELETE landed while the read waited on its (slowed) provider."""
    reading = asyncio.create_task(client.get(f"/api/calls/{call_id}/recording", headers=auth(organization)))
    await asyncio.sleep(0.7)
    await delete(client, call_id, organization)
    return await reading


async def objects_of(runtime: Runtime, call_id: str) -> list[str]:
    keys = []
    for bucket in (RECORDINGS, SINCH):
        keys += [o.key async for o in runtime.buckets.get(bucket).listing() if f"/{call_id}/" in o.key]
    return keys


async def assert_terminal(
    client: httpx.AsyncClient, runtime: Runtime, call_id: str, organization: str
) -> None:
    """What a deleted recording looks like from every side: the API, the rows, the bucket."""
    for path in ("recording", "recording/audio"):
        answer = await client.get(f"/api/calls/{call_id}/{path}", headers=auth(organization))
        assert (answer.status_code, answer.json()["code"]) == (404, "RECORDING_DELETED")
    document = (await client.get(f"/api/calls/{call_id}", headers=auth(organization))).json()["call"]
    assert document["recordings"] == []
    assert document["summary"] is None
    assert document["transcriptionStatus"] == "unavailable"
    async with runtime.sessions() as session:
        call = await session.get(Call, call_id)
        recordings = await session.scalar(
            select(func.count()).select_from(Recording).where(Recording.call_id == call_id)
        )
    assert call is not None
    assert (call.transcription_text, call.transcription_data, call.summary) == (None, None, None)
    assert call.transcript_lease_owner is None
    assert recordings == 0
    assert await objects_of(runtime, call_id) == []


# -- a read in flight ---------------------------------------------------------------------------------


async def test_a_read_in_flight_does_not_write_the_transcript_back(
    client: httpx.AsyncClient, runtime: Runtime, elevenlabs: ElevenLabsFake
) -> None:
    """The issue's reproduction: the conversation API is slow, DELETE lands while the read waits on it."""
    await configure_elevenlabs(client, elevenlabs)
    elevenlabs.add("conv_inflight")
    call = await make_call(
        runtime, VOICE_ORG, provider="elevenlabs", provider_call_id="conv_inflight", transcription_data=None
    )
    elevenlabs.plan.add("slow", delay=2.0, path_contains="/conversations/conv_inflight")

    answer = await delete_mid_read(client, call.id, VOICE_ORG)

    assert (answer.status_code, answer.json()["code"]) == (404, "RECORDING_DELETED")
    await assert_terminal(client, runtime, call.id, VOICE_ORG)


async def test_a_read_in_flight_does_not_store_audio_after_the_deletion(
    client: httpx.AsyncClient, runtime: Runtime, elevenlabs: ElevenLabsFake
) -> None:
    """A lost audio webhook recovered from the API on a read: the re-hosted copy must not outlive the
    deletion that landed while it downloaded."""
    await configure_elevenlabs(client, elevenlabs)
    elevenlabs.add("conv_rehost", audio=AUDIO)
    call = await make_call(
        runtime, VOICE_ORG, provider="elevenlabs", provider_call_id="conv_rehost", audio=None
    )
    elevenlabs.plan.add("slow", delay=2.0, path_contains="/conversations/conv_rehost/audio")
    # ElevenLabs keeps its copy (its DELETE fails), so the slow download still brings the audio back.
    elevenlabs.plan.add("503", times=10, path_contains="/conversations/conv_rehost")

    answer = await delete_mid_read(client, call.id, VOICE_ORG)

    assert (answer.status_code, answer.json()["code"]) == (404, "RECORDING_DELETED")
    await assert_terminal(client, runtime, call.id, VOICE_ORG)


async def test_a_twilio_read_in_flight_does_not_write_the_transcript_back(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    await configure(client, twilio, with_service=True)
    call_sid = sid("CA")
    recording = twilio.add_recording(call_sid, AUDIO, duration="5")
    twilio.add_intelligence_transcript(recording.sid, [(1, 0.1, 1.0, "My card is 4111.")])
    call = await make_call(
        runtime,
        TWILIO_ORG,
        provider="twilio",
        provider_call_id=call_sid,
        transcription_data=None,
        audio=b"",
        recording={"provider_recording_id": recording.sid, "storage_bucket": None, "storage_key": None},
    )
    twilio.plan.add("slow", delay=2.0, path_contains="/Sentences")

    answer = await delete_mid_read(client, call.id, TWILIO_ORG)

    assert answer.status_code == 404
    await assert_terminal(client, runtime, call.id, TWILIO_ORG)


# -- provider events after the deletion ---------------------------------------------------------------

EVENTS = ("transcription", "audio")


def elevenlabs_event(kind: str, conversation_id: str) -> dict[str, Any]:
    if kind == "audio":
        return senders.elevenlabs_audio(conversation_id, AUDIO)
    data = conversation(conversation_id)
    data["analysis"] = {"transcript_summary": "The caller read out a card number."}
    return senders.elevenlabs_transcription(data)


@pytest.mark.usefixtures("configured")
@pytest.mark.parametrize(
    "before",
    [order[:cut] for order in itertools.permutations(EVENTS) for cut in range(1, 3)],
    ids=lambda b: "+".join(b),
)
async def test_elevenlabs_events_after_a_deletion_change_nothing(
    client: httpx.AsyncClient, runtime: Runtime, before: tuple[str, ...]
) -> None:
    """Any prefix of the two events, the deletion, then every event (again): the call stays deleted."""
    conversation_id = "conv_late_" + "_".join(before)
    answers = [await send(client, elevenlabs_event(kind, conversation_id)) for kind in before]
    call_id = answers[0].json()["callId"]
    await delete(client, call_id, HOOK_ORG)

    late = [await send(client, elevenlabs_event(kind, conversation_id)) for kind in EVENTS * 2]

    assert {r.status_code for r in late} == {200}  # acknowledged, so the provider stops redelivering
    assert {r.json()["callId"] for r in late} == {call_id}
    await assert_terminal(client, runtime, call_id, HOOK_ORG)
    async with runtime.sessions() as session:
        recorded = await session.scalar(select(func.count()).select_from(WebhookEvent))
        call = await session.get(Call, call_id)
    assert recorded == 2  # both events are on record; applying them was a no-op
    assert call is not None
    assert call.status == "completed"  # call facts are kept


@pytest.mark.usefixtures("twilio_org")
async def test_a_twilio_recording_webhook_after_a_deletion_adds_no_recording(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    fake = twilio
    call_sid = sid("CA")
    first, second = sid("RE"), sid("RE")
    events = twilio_events(fake, call_sid, first)
    for path, params in events:
        assert (await post_twilio(client, path, params, fake.auth_token)).status_code == 200
    async with runtime.sessions() as session:
        call_id = (await session.scalars(select(Call.id))).one()
    await delete(client, call_id, TEL_ORG)

    again = [
        (path, {**params, "RecordingSid": second} if path == RECORDING else params) for path, params in events
    ]
    for path, params in [*events, *again]:
        assert (await post_twilio(client, path, params, fake.auth_token)).status_code == 200

    await assert_terminal(client, runtime, call_id, TEL_ORG)


@pytest.mark.usefixtures("sinch_org")
async def test_sinch_notifications_after_a_deletion_add_nothing(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    sinch_call = "5e8a0f2c-1234-4a62-9a3e-3e0a1d2b7c11"
    events = sinch_events(sinch_call)
    for event in events[:3]:  # ice, ace, dice: the call, no recording yet
        assert (await post_sinch(client, event)).status_code == 200
    async with runtime.sessions() as session:
        call_id = (await session.scalars(select(Call.id))).one()
    await delete(client, call_id, TEL_ORG)

    for event in events[3:] + events[3:][::-1]:  # the recording and its transcript, in both orders
        assert (await post_sinch(client, event)).status_code == 200

    await assert_terminal(client, runtime, call_id, TEL_ORG)
    async with runtime.sessions() as session:
        call = await session.get(Call, call_id)
    assert call is not None
    assert "transcriptKey" not in (call.provider_metadata or {})


async def test_a_deletion_removes_the_summary_and_keeps_the_call_facts(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    call = await make_call(runtime, VOICE_ORG, summary="The caller gave their card number.")

    await delete(client, call.id, VOICE_ORG)

    await assert_terminal(client, runtime, call.id, VOICE_ORG)
    document = (await client.get(f"/api/calls/{call.id}", headers=auth(VOICE_ORG))).json()["call"]
    assert (document["from"], document["to"], document["duration"], document["status"]) == (
        "+14165550100",
        "+14165550199",
        154.0,
        "completed",
    )
