"""ElevenLabs' post-call webhooks → our events (providers/elevenlabs/webhook.py), with the wire format and
test vector of shared/reference/providers.md §2.3 and §2.4 and the golden conversation in tests/data: a
signed body is one event, a tampered or stale one is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tether_relay.errors import ValidationFailed
from tether_relay.providers.elevenlabs import signature
from tether_relay.providers.elevenlabs.webhook import ElevenLabsWebhook
from tether_relay.providers.errors import InvalidWebhookSignature, WebhookTimestampRefused
from tether_relay.providers.events import (
    AudioDelivered,
    CallFacts,
    CallInitiationFailed,
    Event,
    TranscriptDelivered,
)

DATA = Path(__file__).parent.parent / "data"
ORG, SECRET = "org-1", "test_secret"
NOW = 1739537297
# §2.4's test vector: this body, signed with "test_secret" at NOW.
VECTOR_BODY = (
    b'{"type":"post_call_audio","event_timestamp":1739537297,"data":{"agent_id":"agent_1",'
    b'"conversation_id":"conv_1","full_audio":"SUQz"}}'
)
VECTOR_HEADER = "t=1739537297,v0=10afe222a5c15a6b959776015d8a354f94cb954fddda370e0d13478acf7977d1"
# §2.3's call_initiation_failure example (its SIDs written out in full).
FAILURE = {
    "type": "call_initiation_failure",
    "event_timestamp": 1772532100,
    "data": {
        "agent_id": "agent_01jabc",
        "conversation_id": "conv_01jfail",
        "failure_reason": "no-answer",
        "metadata": {
            "type": "twilio",
            "body": {
                "CallSid": "CA99999999999999999999999999999999",
                "CallStatus": "no-answer",
                "Direction": "outbound-api",
                "To": "+15552223333",
                "From": "+15550001111",
                "SipResponseCode": "487",
                "Timestamp": "Tue, 03 Mar 2026 10:05:00 +0000",
                "AccountSid": "AC11111111111111111111111111111111",
                "ApiVersion": "2010-04-01",
                "CallDuration": "0",
                "Duration": "0",
            },
        },
    },
}


class Senders:
    """Two organisations configured ElevenLabs; ORG's secret is the one that signs."""

    def __init__(self) -> None:
        self.secrets: dict[str, str | None] = {"org-other": "other_secret", ORG: SECRET}
        self.agents: dict[str, str] = {}

    async def secret_of(self, organization_id: str) -> str | None:
        return self.secrets.get(organization_id)

    async def recent(self, limit: int) -> list[tuple[str, str | None]]:
        return list(self.secrets.items())[:limit]

    async def organization_of_agent(self, agent_id: str) -> str | None:
        return self.agents.get(agent_id)

    async def learn_agent(self, agent_id: str, organization_id: str) -> None:
        self.agents[agent_id] = organization_id


async def receive(body: bytes, header: str, senders: Senders | None = None, hint: str | None = None) -> Event:
    webhook = ElevenLabsWebhook(senders or Senders(), max_body_bytes=64 * 1024 * 1024, clock=lambda: NOW)
    return await webhook.receive(body, webhook.precheck(header), hint)


def signed(event: dict[str, object]) -> tuple[bytes, str]:
    body = json.dumps(event).encode()
    return body, f"t={NOW},{signature.sign(body, SECRET, NOW)}"


async def test_the_published_vector_is_the_calls_audio() -> None:
    senders = Senders()

    event = await receive(VECTOR_BODY, VECTOR_HEADER, senders)

    assert isinstance(event, AudioDelivered)
    assert event == AudioDelivered(
        provider="elevenlabs",
        event_key=f"post_call_audio:{ORG}:conv_1",
        organization_id=ORG,
        provider_call_id="conv_1",
        content_type="audio/mpeg",
        extension="mp3",
        audio=event.audio,  # not compared
    )
    assert await event.audio() == b"ID3"
    assert senders.agents == {"agent_1": ORG}  # learnt from an event that verified


async def test_audio_that_is_not_mp3_is_refused_when_decoded() -> None:
    body, header = signed(
        {"type": "post_call_audio", "data": {"conversation_id": "conv_1", "full_audio": "e30="}}
    )
    event = await receive(body, header)

    assert isinstance(event, AudioDelivered)
    with pytest.raises(ValidationFailed):
        await event.audio()


async def test_a_transcription_is_the_transcript_with_the_calls_facts() -> None:
    conversation = json.loads((DATA / "elevenlabs_conversation.json").read_text())
    expected = json.loads((DATA / "elevenlabs_conversation.expected.json").read_text())
    body, header = signed({"type": "post_call_transcription", "event_timestamp": NOW, "data": conversation})

    event = await receive(body, header)

    assert isinstance(event, TranscriptDelivered)
    assert (event.event_key, event.provider_call_id) == (
        f"post_call_transcription:{ORG}:conv_01jxyz",
        "conv_01jxyz",
    )
    assert event.facts == CallFacts(
        status="completed",
        direction="inbound",
        from_number="+15552223333",  # inbound: the external party called the agent's number
        to_number="+15550001111",
        start_time=datetime(2026, 3, 3, 10, 0, 4, tzinfo=UTC),
        duration=65.0,
    )
    assert (event.transcript.status, event.transcript.data) == ("ready", expected)
    assert event.summary == "Caller asked about an order; the agent confirmed it shipped."
    assert event.metadata == {"agentId": "agent_01jabc"}


async def test_an_initiation_failure_is_the_failed_call() -> None:
    event = await receive(*signed(FAILURE))

    assert event == CallInitiationFailed(
        provider="elevenlabs",
        event_key=f"call_initiation_failure:{ORG}:conv_01jfail",
        organization_id=ORG,
        provider_call_id="conv_01jfail",
        status="no-answer",
        direction="outbound",
        from_number="+15550001111",
        to_number="+15552223333",
    )


async def test_a_learnt_agent_and_a_hint_route_to_one_secret() -> None:
    senders = Senders()
    senders.agents["agent_1"] = ORG

    assert (await receive(VECTOR_BODY, VECTOR_HEADER, senders)).organization_id == ORG
    with pytest.raises(InvalidWebhookSignature):  # the hint names the organisation: no other is tried
        await receive(VECTOR_BODY, VECTOR_HEADER, senders, hint="org-other")


@pytest.mark.parametrize(
    ("body", "header"),
    [
        (VECTOR_BODY.replace(b"conv_1", b"conv_2"), VECTOR_HEADER),  # the body changed
        (VECTOR_BODY + b" ", VECTOR_HEADER),
        (VECTOR_BODY, VECTOR_HEADER[:-1] + "0"),  # the signature changed
    ],
)
async def test_a_tampered_body_is_refused_and_teaches_nothing(body: bytes, header: str) -> None:
    senders = Senders()

    with pytest.raises(InvalidWebhookSignature):
        await receive(body, header, senders)
    assert senders.agents == {}


def test_a_stale_or_missing_signature_is_refused_before_the_body() -> None:
    webhook = ElevenLabsWebhook(Senders(), max_body_bytes=1024, clock=lambda: NOW + 31 * 60)

    with pytest.raises(WebhookTimestampRefused):
        webhook.precheck(VECTOR_HEADER)
    with pytest.raises(InvalidWebhookSignature):
        webhook.precheck(None)
