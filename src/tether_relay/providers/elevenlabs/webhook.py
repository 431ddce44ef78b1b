"""ElevenLabs post-call webhooks: post_call_transcription, post_call_audio, call_initiation_failure
(shared/reference/providers.md §2.3, §2.4) → our events.

Whose event is it? Each organisation's ElevenLabs workspace signs with its own secret, and the event
names no organisation. Nothing is parsed before the signature verifies; to pick which secret to try, the
raw bytes are only searched for the `agent_id` value, and agents are learnt from events that verified:
  1. `?organizationId=` on the webhook URL (an operator may configure it so): that organisation only;
  2. an agent we have learnt: its organisation only (and, should it have moved, the recent ones);
  3. otherwise the most recently configured organisations, at most SEARCH_LIMIT of them.
"""

from __future__ import annotations

import asyncio
import binascii
import re
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import orjson
import pybase64
from pydantic import ValidationError

from tether_relay.db import storable
from tether_relay.errors import ValidationFailed
from tether_relay.providers.audio import SNIFF_BYTES, is_mp3
from tether_relay.providers.elevenlabs import signature
from tether_relay.providers.elevenlabs.adapter import conversation_transcript
from tether_relay.providers.elevenlabs.client import is_conversation_id
from tether_relay.providers.elevenlabs.payloads import Conversation
from tether_relay.providers.errors import InvalidWebhookSignature
from tether_relay.providers.events import (
    AudioDelivered,
    CallFacts,
    CallInitiationFailed,
    Event,
    EventIds,
    TranscriptDelivered,
)

PROVIDER = "elevenlabs"
SEARCH_LIMIT = 25
# Hashing, searching or parsing more than this holds the event loop for milliseconds: done in a thread.
_OFF_LOOP_BYTES = 256 * 1024
T = TypeVar("T")
_AGENT_ID = re.compile(rb'"agent_id"\s*:\s*"([A-Za-z0-9_-]{1,128})"')
_FAILURE_STATUS = {"busy": "busy", "no-answer": "no-answer"}


class ElevenLabsSenders(Protocol):
    """What verification needs to know of the organisations (the webhooks layer keeps it)."""

    async def secret_of(self, organization_id: str) -> str | None:
        """The organisation's webhook secret, if it configured one."""

    async def recent(self, limit: int) -> list[tuple[str, str | None]]:
        """(organisation, webhook secret) of the most recently configured organisations."""

    async def organization_of_agent(self, agent_id: str) -> str | None:
        """The organisation the agent's last verified event came from."""

    async def learn_agent(self, agent_id: str, organization_id: str) -> None:
        """Remember the agent's organisation, from an event that verified."""


class ElevenLabsWebhook:
    def __init__(
        self, senders: ElevenLabsSenders, max_body_bytes: int, clock: Callable[[], float] = time.time
    ) -> None:
        self._senders = senders
        self._max_body_bytes = max_body_bytes
        self._clock = clock

    def precheck(self, signature_header: str | None) -> tuple[int, str]:
        """Before the body is read: the signature header parses and its timestamp is fresh."""
        timestamp, digest = signature.parse_header(signature_header)
        signature.check_timestamp(timestamp, self._clock())
        return timestamp, digest

    async def receive(self, body: bytes, signed: tuple[int, str], organization_hint: str | None) -> Event:
        """Our event of a body whose signature verifies (InvalidWebhookSignature otherwise)."""
        timestamp, digest = signed
        agent_id = await _off_loop(body, _agent_of, body)
        organization_id = await self._verified_organization(
            body, digest, timestamp, agent_id, organization_hint
        )
        event_type, data = await _off_loop(body, _envelope, body)
        if agent_id is not None:
            await self._senders.learn_agent(agent_id, organization_id)
        return _event(event_type, organization_id, data)

    async def _verified_organization(
        self, body: bytes, digest: str, timestamp: int, agent_id: str | None, hint: str | None
    ) -> str:
        """The organisation whose secret signed the body. An unsigned request costs at most one pass over
        the largest body we accept: the search tries as many secrets as fit in that (a body near the cap:
        the best candidate only), hashing off the event loop when the body is large."""
        budget = max(1, self._max_body_bytes // max(len(body), 1))
        known = hint
        if known is None and agent_id is not None:
            known = await self._senders.organization_of_agent(agent_id)
        if known is None:
            candidates = _with_secrets(await self._senders.recent(SEARCH_LIMIT))
        else:
            candidates = _with_secrets([(known, await self._senders.secret_of(known))])
            if hint is None and len(candidates) < budget:
                # A learnt agent may have moved to another workspace: the recent organisations too.
                recent = _with_secrets(await self._senders.recent(SEARCH_LIMIT))
                candidates += [(org, secret) for org, secret in recent if org != known]
        found = await _off_loop(body, _first_signer, body, digest, timestamp, candidates[:budget])
        if found is None:
            raise InvalidWebhookSignature()
        return found


def parse(body: bytes, organization_id: str) -> Event:
    """Our event of a verified body; ValidationFailed when it is not a post-call event ElevenLabs sends."""
    event_type, data = _envelope(body)
    return _event(event_type, organization_id, data)


def _event(event_type: str, organization_id: str, data: dict[str, Any]) -> Event:
    """Our event of a verified post-call event's type and (storable) data."""
    conversation_id = data.get("conversation_id")
    if not isinstance(conversation_id, str) or not is_conversation_id(conversation_id):
        raise ValidationFailed.of("body", "data.conversation_id is missing or malformed")
    ids = EventIds(
        provider=PROVIDER,
        # An event is one type, for one conversation, of one organisation.
        event_key=f"{event_type}:{organization_id}:{conversation_id}",
        organization_id=organization_id,
        provider_call_id=conversation_id,
    )
    if event_type == "post_call_audio":
        return _audio(ids, data.get("full_audio"))
    if event_type == "post_call_transcription":
        return _transcription(ids, data)
    return _failure(ids, data)


def _audio(ids: EventIds, full_audio: Any) -> AudioDelivered:
    async def audio() -> bytes:
        return await _off_loop(full_audio if isinstance(full_audio, str) else b"", _decode_audio, full_audio)

    return AudioDelivered(**ids, content_type="audio/mpeg", extension="mp3", audio=audio)


def _transcription(ids: EventIds, data: dict[str, Any]) -> TranscriptDelivered:
    try:
        conversation = Conversation.model_validate(data)
    except ValidationError:
        raise ValidationFailed.of("body", "data is not a conversation") from None
    result = conversation_transcript(conversation)
    details = result.details
    status = "failed" if conversation.status == "failed" else "completed"
    facts = CallFacts(status=status)
    if details is not None:
        facts = CallFacts(
            status=status,
            direction=details.direction,
            from_number=details.from_number,
            to_number=details.to_number,
            start_time=details.start_time,
            duration=details.duration,
        )
    analysis = conversation.analysis
    return TranscriptDelivered(
        **ids,
        facts=facts,
        transcript=result,
        summary=(analysis.transcript_summary or None) if analysis else None,
        metadata={"agentId": conversation.agent_id},
    )


def _failure(ids: EventIds, data: dict[str, Any]) -> CallInitiationFailed:
    metadata = _object(data.get("metadata"))
    sender = _object(metadata.get("body"))  # Twilio's status form as JSON, or the SIP failure
    from_number = sender.get("From") or sender.get("from_number")
    to_number = sender.get("To") or sender.get("to_number")
    return CallInitiationFailed(
        **ids,
        status=_FAILURE_STATUS.get(str(data.get("failure_reason")), "failed"),
        direction="inbound" if sender.get("Direction") == "inbound" else "outbound",
        from_number=str(from_number) if from_number else None,
        to_number=str(to_number) if to_number else None,
    )


def _with_secrets(candidates: list[tuple[str, str | None]]) -> list[tuple[str, str]]:
    return [(org, secret) for org, secret in candidates if secret]


def _first_signer(body: bytes, digest: str, timestamp: int, candidates: list[tuple[str, str]]) -> str | None:
    return next(
        (org for org, secret in candidates if signature.matches(body, digest, secret, timestamp)), None
    )


def _agent_of(body: bytes) -> str | None:
    agent = _AGENT_ID.search(body)
    return agent.group(1).decode() if agent else None


async def _off_loop(body: bytes | str, work: Callable[..., T], *args: Any) -> T:
    """`work(*args)`, in a thread when the body is large enough for it to hold the event loop."""
    if len(body) > _OFF_LOOP_BYTES:
        return await asyncio.to_thread(work, *args)
    return work(*args)


def _envelope(body: bytes) -> tuple[str, dict[str, Any]]:
    try:
        event = orjson.loads(body)  # faster than json on a large body; the GIL is held for less
    except orjson.JSONDecodeError:
        raise ValidationFailed.of("body", "body is not JSON") from None
    if not isinstance(event, dict):
        raise ValidationFailed.of("body", "body is not a JSON object")
    event_type = event.get("type")
    if event_type not in ("post_call_transcription", "post_call_audio", "call_initiation_failure"):
        raise ValidationFailed.of("body", "type is not a known ElevenLabs post-call event")
    # Older payloads inline the data fields at the top level.
    return str(event_type), storable(_object(event.get("data")) or event)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _decode_audio(value: Any) -> bytes:
    if not isinstance(value, str) or not value:
        raise ValidationFailed.of("body", "data.full_audio is missing")
    try:
        audio = pybase64.b64decode(value, validate=True)  # 5x the stdlib's speed: the GIL is held less
    except (binascii.Error, ValueError):
        raise ValidationFailed.of("body", "data.full_audio is not base64") from None
    if not is_mp3(audio[:SNIFF_BYTES]):
        raise ValidationFailed.of("body", "data.full_audio is not MP3 audio")
    return audio
