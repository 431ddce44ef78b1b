"""Applies our events (providers/events.py) to calls, each exactly once (events.py). Whatever the
provider, an event makes the call it concerns if it is the first of it, and after the call's recording was
deleted it is recorded and changes nothing. Content (recordings, transcripts, summaries) goes through the
repository's guarded writes, so it is refused after a deletion whatever runs concurrently."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tether_relay.calls.announcements import announce
from tether_relay.calls.archive_service import archive_job
from tether_relay.calls.models import Call
from tether_relay.calls.repository import CallRepository, NewRecording
from tether_relay.calls.warm_jobs import fetch_audio_job, warm_transcript_job
from tether_relay.db import utcnow
from tether_relay.ids import new_recording_id
from tether_relay.jobs.queue import Job, enqueue
from tether_relay.providers.events import (
    STATUS_ORDER,
    AudioDelivered,
    CallFacts,
    CallInitiationFailed,
    CallMentioned,
    CallStatusChanged,
    Event,
    ProviderEvent,
    RecordingAvailable,
    RecordingCompleted,
    TranscriptAvailable,
    TranscriptDelivered,
)
from tether_relay.storage.buckets import RECORDINGS, Buckets, recording_key
from tether_relay.transcripts.model import UnrenderableTranscript
from tether_relay.webhooks.events import apply_once, previous

log = logging.getLogger("tether_relay.webhooks")


class EventApplier:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], buckets: Buckets) -> None:
        self._sessions = sessions
        self._buckets = buckets

    async def apply(self, event: Event) -> str | None:
        """The id of the call the event concerned."""
        if isinstance(event, AudioDelivered):
            return await self._audio(event)

        async def apply(session: AsyncSession) -> str:
            calls = CallRepository(session)
            call = await calls.find_or_create(event.organization_id, event.provider, event.provider_call_id)
            if call.recording_deleted_at is None:  # after a deletion an event is a no-op
                for job in await _apply(event, call, calls):
                    await enqueue(session, job)  # committed with the change, or not at all
                await announce(session, call.id)
            return call.id

        call_id, _ = await apply_once(self._sessions, event, apply)
        return call_id

    async def _audio(self, event: AudioDelivered) -> str | None:
        """Audio is uploaded before its row (a row never points at nothing) and removed again if the row
        is not added: another delivery got there first, or the recording was deleted."""
        if (done := await previous(self._sessions, event)) is not None:
            return done.call_id  # a repeat: skip decoding and uploading the audio again
        audio = await event.audio()
        call_id, deleted = await self._call_id(event)
        if deleted:  # recorded, and applied as the no-op it is: the recording stays deleted
            return (await apply_once(self._sessions, event, _returning(call_id)))[0]
        recording_id = new_recording_id()
        key = recording_key(event.organization_id, call_id, recording_id, event.extension)
        store = self._buckets.get(RECORDINGS)
        await store.put(key, audio, event.content_type)
        attached = False

        async def attach(session: AsyncSession) -> str:
            nonlocal attached
            calls = CallRepository(session)
            call = await calls.find_or_create(event.organization_id, event.provider, event.provider_call_id)
            if call.recording_deleted_at is not None:
                return call.id  # after a deletion an event is recorded and applied as a no-op
            if not any(r.storage_key for r in call.recordings):
                recording = NewRecording(
                    id=recording_id,
                    storage_bucket=RECORDINGS,
                    storage_key=key,
                    content_type=event.content_type,
                    size_bytes=len(audio),
                    duration=call.duration,
                )
                attached = await calls.attach_recording(call.id, recording) is not None
            if call.status == "initiated":
                call.status = "completed"  # its audio is there: the call took place
            await announce(session, call.id)
            return call.id

        result, duplicate = await apply_once(self._sessions, event, attach)
        if duplicate or not attached:
            await store.delete(key)
        return result

    async def _call_id(self, event: ProviderEvent) -> tuple[str, bool]:
        """The call's id before its audio is uploaded (the storage key contains it), and whether its
        recording was deleted (then nothing is uploaded at all)."""
        for _ in range(3):
            try:
                async with self._sessions.begin() as session:
                    call = await CallRepository(session).find_or_create(
                        event.organization_id, event.provider, event.provider_call_id
                    )
                return call.id, call.recording_deleted_at is not None
            except IntegrityError:  # lost a creation race; the next pass finds the winner's row
                continue
        raise RuntimeError("could not create the call")


def _returning(call_id: str) -> Callable[[AsyncSession], Awaitable[str]]:
    async def apply(_session: AsyncSession) -> str:
        return call_id

    return apply


async def _apply(event: Event, call: Call, calls: CallRepository) -> list[Job]:
    """The event, on a live call (its recording not deleted), in the transaction that records it; the
    jobs it calls for, to enqueue in that transaction."""
    match event:
        case CallMentioned():
            pass
        case CallStatusChanged():
            _update(call, event.facts)
        case CallInitiationFailed():
            _initiation_failed(call, event)
        case RecordingCompleted() | RecordingAvailable():
            return await _recording(call, calls, event)
        case TranscriptAvailable():
            await _transcript_available(call, calls, event)
            return [warm_transcript_job(call.organization_id, call.id)]  # the file is final: cache it now
        case TranscriptDelivered():
            return await _transcript_delivered(call, calls, event)
        case AudioDelivered():
            raise AssertionError("audio is uploaded first: EventApplier._audio")
    return []


def _update(call: Call, facts: CallFacts) -> None:
    if facts.status is not None and STATUS_ORDER[facts.status] >= STATUS_ORDER.get(call.status, -1):
        call.status = facts.status
    call.direction = call.direction or facts.direction
    call.from_number = call.from_number or facts.from_number
    call.to_number = call.to_number or facts.to_number
    call.start_time = call.start_time or facts.start_time
    call.answer_time = call.answer_time or facts.answer_time
    call.end_time = call.end_time or facts.end_time
    if facts.duration is not None:
        call.duration = facts.duration


def _initiation_failed(call: Call, event: CallInitiationFailed) -> None:
    if call.status != "initiated":
        return  # the call went further: a failure to initiate it moves nothing backwards
    call.status = event.status
    call.direction = call.direction or event.direction
    call.from_number = call.from_number or event.from_number
    call.to_number = call.to_number or event.to_number
    call.transcription_status = "unavailable"


async def _recording(
    call: Call, calls: CallRepository, event: RecordingCompleted | RecordingAvailable
) -> list[Job]:
    """The first announcement of a recording attaches it; a repeat, or another of the same kind, does not.
    A recording the provider hosts is archived into our storage by a job (a repeat asks again: the job is
    deduplicated while pending and does nothing once the copy is made)."""
    if isinstance(event, RecordingCompleted):
        known_id = next(
            (r.id for r in call.recordings if r.provider_recording_id == event.recording_id), None
        )
        if known_id is None:
            known_id = await calls.attach_recording(
                call.id,
                NewRecording(
                    provider_recording_id=event.recording_id,
                    duration=event.duration,
                    channels=event.channels,
                    reference_url=event.reference_url,
                ),
            )  # None if the recording was deleted
        return [] if known_id is None else [archive_job(call.id, known_id)]
    known = any(r.storage_bucket == event.bucket for r in call.recordings)
    # The provider records into one bucket of ours: its first recording there is the call's.
    if not known:
        recording = NewRecording(
            storage_bucket=event.bucket,
            storage_key=event.key,
            content_type=event.content_type,
            duration=call.duration,
            transcript_key=(call.provider_metadata or {}).get("transcriptKey"),
        )
        await calls.attach_recording(call.id, recording)  # refused if the recording was deleted
    return []


async def _transcript_available(call: Call, calls: CallRepository, event: TranscriptAvailable) -> None:
    stored = next((r for r in call.recordings if r.storage_bucket == event.bucket), None)
    if stored is not None:
        await calls.update_recording(call.id, stored.id, transcript_key=event.key)
    else:  # announced before the recording: kept for when the recording arrives
        call.provider_metadata = {**(call.provider_metadata or {}), "transcriptKey": event.key}


async def _transcript_delivered(call: Call, calls: CallRepository, event: TranscriptDelivered) -> list[Job]:
    """The conversation is over: its transcript cached (or, if it could not be, fetched by a job), and its
    audio fetched by a job if its own webhook has not brought it after a grace period."""
    _update(call, event.facts)
    metadata: dict[str, Any] = {**(call.provider_metadata or {}), **event.metadata}
    call.provider_metadata = metadata
    # The provider's own transcript wins over a cached "unavailable" or "failed" (deliver_transcript).
    if event.summary:
        await calls.set_summary(call.id, event.summary)
    jobs = []
    result = event.transcript
    cached = False
    if result.status == "ready":
        try:
            await calls.deliver_transcript(
                call.id, source=result.source, text=result.text, data=result.data, now=utcnow()
            )
            cached = True
        except UnrenderableTranscript:  # not cached; the job fetches it from the API instead
            log.warning("pushed transcript not cached", extra={"provider": event.provider})
    if not cached:
        jobs.append(warm_transcript_job(call.organization_id, call.id))
    for recording in call.recordings:
        recording.duration = recording.duration if recording.duration is not None else call.duration
    if not any(r.storage_key for r in call.recordings):
        jobs.append(fetch_audio_job(call.organization_id, call.id))
    return jobs
