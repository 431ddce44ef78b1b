"""POST /api/webhook/elevenlabs: post_call_transcription, post_call_audio, call_initiation_failure.

Whose event is it? Each organisation's ElevenLabs workspace signs with its own secret, and the event
names no organisation. Nothing is parsed before the signature verifies; to pick which secret to try, the
raw bytes are only searched for the `agent_id` value, and agents are learnt from events that verified:
  1. `?organizationId=` on the webhook URL (an operator may configure it so): that organisation only;
  2. an agent we have learnt: its organisation only;
  3. otherwise the most recently configured organisations, at most SEARCH_LIMIT of them.
The two post-call events may come in either order and more than once; the result is one call with its
audio and transcript. An audio event alone already makes a readable call (the transcript and call details
are fetched from ElevenLabs on the first read).
"""

from __future__ import annotations

import asyncio
import binascii
import logging
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
import pybase64
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tether_relay.calls.repository import CallRepository, NewRecording
from tether_relay.db import storable, utcnow
from tether_relay.errors import ValidationFailed
from tether_relay.ids import new_recording_id
from tether_relay.organizations.credentials import CredentialStore
from tether_relay.providers.audio import SNIFF_BYTES, is_mp3
from tether_relay.providers.elevenlabs import signature
from tether_relay.providers.elevenlabs.adapter import SOURCE, conversation_transcript
from tether_relay.providers.elevenlabs.client import is_conversation_id
from tether_relay.providers.elevenlabs.payloads import Conversation
from tether_relay.providers.errors import InvalidWebhookSignature
from tether_relay.storage.buckets import RECORDINGS, Buckets, recording_key
from tether_relay.transcripts.model import UnrenderableTranscript
from tether_relay.webhooks.events import Apply, apply_once, previous
from tether_relay.webhooks.models import ElevenLabsAgent

log = logging.getLogger("tether_relay.webhooks")

PROVIDER = "elevenlabs"
SEARCH_LIMIT = 25
# Hashing, searching or parsing more than this holds the event loop for milliseconds: done in a thread.
_OFF_LOOP_BYTES = 256 * 1024
T = TypeVar("T")
_AGENT_ID = re.compile(rb'"agent_id"\s*:\s*"([A-Za-z0-9_-]{1,128})"')
_FAILURE_STATUS = {"busy": "busy", "no-answer": "no-answer"}


class ElevenLabsWebhooks:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        credentials: CredentialStore,
        buckets: Buckets,
        max_body_bytes: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._max_body_bytes = max_body_bytes
        self._sessions = sessions
        self._credentials = credentials
        self._buckets = buckets
        self._clock = clock

    def precheck(self, signature_header: str | None) -> tuple[int, str]:
        """Before the body is read: the signature header parses and its timestamp is fresh."""
        timestamp, digest = signature.parse_header(signature_header)
        signature.check_timestamp(timestamp, self._clock())
        return timestamp, digest

    async def receive(
        self, body: bytes, signed: tuple[int, str], organization_hint: str | None
    ) -> str | None:
        timestamp, digest = signed
        agent_id = await _off_loop(body, _agent_of, body)
        organization_id = await self._verified_organization(
            body, digest, timestamp, agent_id, organization_hint
        )
        event_type, data = await _off_loop(body, _parse, body)
        if agent_id is not None:
            await self._learn(agent_id, organization_id)
        conversation_id = data.get("conversation_id")
        if not isinstance(conversation_id, str) or not is_conversation_id(conversation_id):
            raise ValidationFailed.of("body", "data.conversation_id is missing or malformed")
        if event_type == "post_call_audio":
            return await self._audio(organization_id, conversation_id, data)
        if event_type == "post_call_transcription":
            return await self._transcription(organization_id, conversation_id, data)
        return await self._failure(organization_id, conversation_id, data)

    async def _verified_organization(
        self, body: bytes, digest: str, timestamp: int, agent_id: str | None, hint: str | None
    ) -> str:
        """The organisation whose secret signed the body. An unsigned request costs at most one pass over
        the largest body we accept: the search tries as many secrets as fit in that (a body near the cap:
        the best candidate only), hashing off the event loop when the body is large."""
        budget = max(1, self._max_body_bytes // max(len(body), 1))
        candidates = [(org, secret) for org, secret in await self._candidates(agent_id, hint) if secret]
        if hint is None and agent_id is not None and len(candidates) < budget:
            # A learnt agent may have moved to another workspace: the recent organisations too.
            tried = {org for org, _ in candidates}
            candidates += [(org, s) for org, s in await self._recent() if s and org not in tried]
        found = await _off_loop(body, _first_signer, body, digest, timestamp, candidates[:budget])
        if found is None:
            raise InvalidWebhookSignature()
        return found

    async def _candidates(self, agent_id: str | None, hint: str | None) -> list[tuple[str, str | None]]:
        """(organisation, webhook secret) to try: the hinted one, the learnt agent's, or a bounded search."""
        known = hint
        if known is None and agent_id is not None:
            async with self._sessions() as session:
                agent = await session.get(ElevenLabsAgent, agent_id)
            known = agent.organization_id if agent is not None else None
        if known is None:
            return await self._recent()
        creds = await self._credentials.elevenlabs(known)
        return [(known, creds.webhook_secret if creds else None)]

    async def _recent(self) -> list[tuple[str, str | None]]:
        return [
            (org, values.get("elevenlabsWebhookSecret"))
            for org, values in await self._credentials.recent(PROVIDER, SEARCH_LIMIT)
        ]

    async def _learn(self, agent_id: str, organization_id: str) -> None:
        async with self._sessions() as session:
            known = await session.get(ElevenLabsAgent, agent_id, with_for_update=True)
            if known is None:
                session.add(ElevenLabsAgent(agent_id=agent_id, organization_id=organization_id))
            elif known.organization_id != organization_id:
                known.organization_id, known.learnt_at = organization_id, utcnow()
            try:
                await session.commit()
            except IntegrityError:  # a concurrent event learnt it first; routing is only a hint
                await session.rollback()

    async def _audio(self, organization_id: str, conversation_id: str, data: dict[str, Any]) -> str | None:
        if (
            done := await previous(
                self._sessions, PROVIDER, _key("post_call_audio", organization_id, conversation_id)
            )
        ) is not None:
            return done.call_id  # a repeat: skip decoding and uploading the audio again
        full_audio = data.get("full_audio")
        audio = await _off_loop(full_audio if isinstance(full_audio, str) else b"", _decode_audio, full_audio)
        call_id, deleted = await self._call_id(organization_id, conversation_id)
        if deleted:  # recorded, and applied as the no-op it is: the recording stays deleted
            return (await self._once("post_call_audio", organization_id, conversation_id, _no_op(call_id)))[0]
        recording_id = new_recording_id()
        key = recording_key(organization_id, call_id, recording_id, "mp3")
        store = self._buckets.get(RECORDINGS)
        await store.put(key, audio, "audio/mpeg")  # before the row: a row never points at nothing
        attached = False

        async def attach(session: AsyncSession) -> str:
            nonlocal attached
            calls = CallRepository(session)
            call = await calls.find_or_create(organization_id, PROVIDER, conversation_id)
            if call.recording_deleted_at is not None:
                return call.id  # after a deletion an event is recorded and applied as a no-op
            if not any(r.storage_key for r in call.recordings):
                recording = NewRecording(
                    id=recording_id,
                    storage_bucket=RECORDINGS,
                    storage_key=key,
                    size_bytes=len(audio),
                    duration=call.duration,
                )
                attached = await calls.attach_recording(call.id, recording) is not None
            if call.status == "initiated":
                call.status = "completed"
            return call.id

        result, duplicate = await self._once("post_call_audio", organization_id, conversation_id, attach)
        if duplicate or not attached:
            await store.delete(key)  # another delivery got there first, or the recording was deleted
        return result

    async def _once(
        self, event: str, organization_id: str, conversation_id: str, apply: Apply
    ) -> tuple[str | None, bool]:
        return await apply_once(
            self._sessions,
            provider=PROVIDER,
            organization_id=organization_id,
            event_key=_key(event, organization_id, conversation_id),
            apply=apply,
        )

    async def _call_id(self, organization_id: str, conversation_id: str) -> tuple[str, bool]:
        """The call's id before its audio is uploaded (the storage key contains it), and whether its
        recording was deleted (then nothing is uploaded at all)."""
        for _ in range(3):
            async with self._sessions() as session:
                try:
                    call = await CallRepository(session).find_or_create(
                        organization_id, PROVIDER, conversation_id
                    )
                    await session.commit()
                    return call.id, call.recording_deleted_at is not None
                except IntegrityError:  # lost a creation race; the next pass finds the winner's row
                    await session.rollback()
        raise RuntimeError("could not create the call")

    async def _transcription(
        self, organization_id: str, conversation_id: str, data: dict[str, Any]
    ) -> str | None:
        try:
            conversation = Conversation.model_validate(data)
        except ValidationError:
            raise ValidationFailed.of("body", "data is not a conversation") from None
        result = conversation_transcript(conversation)
        details = result.details

        async def apply(session: AsyncSession) -> str:
            calls = CallRepository(session)
            call = await calls.find_or_create(organization_id, PROVIDER, conversation_id)
            if call.recording_deleted_at is not None:
                return call.id  # after a deletion an event is recorded and applied as a no-op
            call.status = "failed" if conversation.status == "failed" else "completed"
            if details is not None:
                call.direction = call.direction or details.direction
                call.from_number = call.from_number or details.from_number
                call.to_number = call.to_number or details.to_number
                call.duration = details.duration if details.duration is not None else call.duration
                call.start_time = call.start_time or details.start_time
            call.provider_metadata = {**(call.provider_metadata or {}), "agentId": conversation.agent_id}
            # Content goes through the repository's guarded writes: refused after a deletion, and the
            # provider's own transcript wins over a cached "unavailable" or "failed".
            if conversation.analysis and conversation.analysis.transcript_summary:
                await calls.set_summary(call.id, conversation.analysis.transcript_summary)
            if result.status == "ready":
                try:
                    await calls.deliver_transcript(
                        call.id, source=SOURCE, text=result.text, data=result.data, now=utcnow()
                    )
                except UnrenderableTranscript:  # not cached; a read fetches it from the API instead
                    log.warning("pushed transcript not cached", extra={"provider": PROVIDER})
            for recording in call.recordings:
                recording.duration = recording.duration if recording.duration is not None else call.duration
            return call.id

        call_id, _ = await self._once("post_call_transcription", organization_id, conversation_id, apply)
        return call_id

    async def _failure(self, organization_id: str, conversation_id: str, data: dict[str, Any]) -> str | None:
        reason = data.get("failure_reason")
        metadata = _object(data.get("metadata"))
        sender = _object(metadata.get("body"))  # Twilio's status form as JSON, or the SIP failure
        from_number = sender.get("From") or sender.get("from_number")
        to_number = sender.get("To") or sender.get("to_number")
        direction = "inbound" if sender.get("Direction") == "inbound" else "outbound"

        async def apply(session: AsyncSession) -> str:
            call = await CallRepository(session).find_or_create(organization_id, PROVIDER, conversation_id)
            if call.recording_deleted_at is not None or call.status != "initiated":
                # After a deletion an event is a no-op; and a failure to initiate describes a call that
                # went no further, so arriving after its completion it moves nothing backwards.
                return call.id
            call.status = _FAILURE_STATUS.get(str(reason), "failed")
            call.direction = call.direction or direction
            call.from_number = call.from_number or (str(from_number) if from_number else None)
            call.to_number = call.to_number or (str(to_number) if to_number else None)
            call.transcription_status = "unavailable"
            return call.id

        call_id, _ = await self._once("call_initiation_failure", organization_id, conversation_id, apply)
        return call_id


def _no_op(call_id: str) -> Apply:
    async def apply(_session: AsyncSession) -> str:
        return call_id

    return apply


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


def _key(event: str, organization_id: str, conversation_id: str) -> str:
    """An event is one type, for one conversation, of one organisation."""
    return f"{event}:{organization_id}:{conversation_id}"


def _parse(body: bytes) -> tuple[str, dict[str, Any]]:
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
