"""GET /api/calls/{callId}/recording: find the caller's call, get its audio, attach the transcript.

The call is read as one snapshot (calls/snapshot.py: one query, no ORM, no transaction). Nothing holds a
transaction across provider calls: what the read learns (leases, transcripts, discovered recordings) is
written in short sessions of its own. A request-long session would pin a pool connection for the length
of a Twilio download and, on SQLite, could hold the write lock that another reader's lease needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tether_relay.auth.playback import PlaybackLinks
from tether_relay.auth.principal import Principal
from tether_relay.calls.announcements import announce
from tether_relay.calls.archive_service import archive_job
from tether_relay.calls.models import CALL_IN_PROGRESS
from tether_relay.calls.redaction_requests import wants_redacted
from tether_relay.calls.redaction_service import RedactionService
from tether_relay.calls.repository import CallRepository, NewRecording
from tether_relay.calls.snapshot import CallSnapshot, CallSnapshots, RedactionRef
from tether_relay.calls.transcript_service import TranscriptService
from tether_relay.errors import (
    CallNotFound,
    RecordingDeleted,
    RecordingNotFound,
    RecordingNotReady,
    TranscriptNotReady,
)
from tether_relay.jobs.queue import enqueue
from tether_relay.providers.base import (
    AudioSource,
    CallDetails,
    FetchedAudio,
    InlineAudio,
    Provider,
    RecordingRef,
)
from tether_relay.providers.registry import ProviderRegistry
from tether_relay.providers.stored import StoredAudio
from tether_relay.storage.buckets import Buckets


@dataclass(frozen=True, slots=True)
class RecordingPayload:
    audio: AudioSource
    recording_id: str
    duration: float | None
    direction: str | None
    from_number: str | None
    to_number: str | None
    transcription_text: str | None
    transcription_data: Any | None
    transcription_status: str
    playback_url: str


@dataclass(frozen=True, slots=True)
class TranscriptExport:
    text: str | None
    data: Any | None
    duration: float | None


class RecordingService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        snapshots: CallSnapshots,
        providers: ProviderRegistry,
        transcripts: TranscriptService,
        playback: PlaybackLinks,
        buckets: Buckets,
        stored: StoredAudio,
        redactions: RedactionService,
    ) -> None:
        self._buckets = buckets
        self._stored = stored
        self._redactions = redactions
        self._sessions = sessions
        self._snapshots = snapshots
        self._providers = providers
        self._transcripts = transcripts
        self._playback = playback

    async def for_call(self, principal: Principal, call_id: str, redacted: bool = False) -> RecordingPayload:
        """The recording answer: the original, or (for readers of redacted content in an organisation that
        redacts) the redacted copy and transcript."""
        call = await self.visible(principal.organization_id, call_id)
        redacted = wants_redacted(principal.role, redacted)
        copy = await self._redactions.copy_for(call, redacted)
        if copy is not None:
            return await self._redacted(call, copy)
        call, provider, fetched = await self.original_audio(call)
        try:
            transcript = await self._transcripts.ensure(provider, call, fetched.recording)
        except BaseException:
            await release(fetched)
            raise
        learnt = transcript.details or CallDetails()
        duration = fetched.recording.duration if fetched.recording.duration is not None else call.duration
        return RecordingPayload(
            audio=fetched.audio,
            recording_id=fetched.recording.public_id,
            duration=duration if duration is not None else learnt.duration,
            direction=call.direction or learnt.direction,
            from_number=call.from_number or learnt.from_number,
            to_number=call.to_number or learnt.to_number,
            transcription_text=transcript.text,
            transcription_data=transcript.data,
            transcription_status=transcript.public_status,
            # A reader of redacted content gets a link that opens only a redacted copy, should the
            # organisation start redacting before it expires.
            playback_url=self._playback.url(call.organization_id, call.id, redacted=redacted),
        )

    async def _redacted(self, call: CallSnapshot, copy: RedactionRef) -> RecordingPayload:
        """The answer from the redacted copy alone: its audio is only ever ours (a missing copy is a 404,
        never a fallback to the provider's original), its transcript the redacted one."""
        fetched = await self.redacted_audio(call, copy)
        return RecordingPayload(
            audio=fetched.audio,
            recording_id=call.recording.public_id if call.recording else fetched.recording.recording_id,
            duration=copy.duration,
            direction=call.direction,
            from_number=call.from_number,
            to_number=call.to_number,
            transcription_text=copy.transcription_text,
            transcription_data=copy.transcription_data,
            transcription_status="ready"
            if copy.transcription_text or copy.transcription_data
            else "unavailable",
            playback_url=self._playback.url(call.organization_id, call.id, redacted=True),
        )

    async def redacted_audio(self, call: CallSnapshot, copy: RedactionRef) -> FetchedAudio:
        ref = RecordingRef(
            call.recording.recording_id if call.recording else call.id,
            copy.storage_bucket,
            copy.storage_key,
            None,
            copy.content_type or "audio/mpeg",
            copy.duration,
        )
        if not self._providers.get(call.provider).inline_audio:
            return self._stored.sign(ref)
        streamed = await self._stored.stream(ref)
        if streamed is None:
            raise RecordingNotFound()
        return streamed

    async def transcript_of(
        self, principal: Principal, call_id: str, redacted: bool = False
    ) -> TranscriptExport:
        """The call's transcript alone, fetched and cached as a recording read would (no audio fetched);
        the redacted one for readers of redacted content."""
        call = await self.visible(principal.organization_id, call_id)
        copy = await self._redactions.copy_for(call, wants_redacted(principal.role, redacted))
        if copy is not None:
            return TranscriptExport(copy.transcription_text, copy.transcription_data, copy.duration)
        view = await self._transcripts.ensure(self._providers.get(call.provider), call, call.recording)
        if view.public_status in ("pending", "failed"):  # both are asked of the provider again later
            raise TranscriptNotReady()
        duration = call.recording.duration if call.recording and call.recording.duration else call.duration
        return TranscriptExport(view.text, view.data, duration)

    async def visible(self, organization_id: str, call_id: str) -> CallSnapshot:
        """The organisation's call, its recording not deleted (else CallNotFound, RecordingDeleted)."""
        call = await self._snapshots.visible(organization_id, call_id)
        if call is None:
            raise CallNotFound()
        if call.recording_deleted_at is not None:
            raise RecordingDeleted()
        return call

    async def audio_of(
        self, organization_id: str, call_id: str
    ) -> tuple[CallSnapshot, Provider, FetchedAudio]:
        """The organisation's call and its original audio, as the provider's adapter gives it (signed,
        or streamed). Only for readers of originals (`copy_for` said None), and jobs."""
        return await self.original_audio(await self.visible(organization_id, call_id))

    async def original_audio(self, call: CallSnapshot) -> tuple[CallSnapshot, Provider, FetchedAudio]:
        if call.recording is None and call.status in CALL_IN_PROGRESS:
            raise RecordingNotReady()  # the call has not ended: its recording cannot exist yet
        provider = self._providers.get(call.provider)
        fetched = await provider.audio(call.ref, call.recording)
        if fetched.discovered:
            try:
                await self._remember(call.id, fetched)
            except BaseException:
                await release(fetched)
                raise
        return call, provider, fetched

    async def _remember(self, call_id: str, fetched: FetchedAudio) -> None:
        r = fetched.recording
        async with self._sessions.begin() as session:
            saved = await CallRepository(session).save_recording(
                call_id,
                NewRecording(
                    id=r.recording_id,
                    storage_bucket=r.storage_bucket,
                    storage_key=r.storage_key,
                    provider_recording_id=r.provider_recording_id,
                    content_type=r.content_type,
                    duration=r.duration,
                    channels=fetched.channels,
                    size_bytes=fetched.size_bytes,
                ),
            )
            if saved and r.storage_key is None:  # provider-hosted: the archive job keeps our copy
                await enqueue(session, archive_job(call_id, r.recording_id))
            if saved:
                await announce(session, call_id)
        if not saved:  # deleted while this read was in flight: what it stored goes too
            if r.storage_bucket is not None and r.storage_key is not None:
                await self._buckets.get(r.storage_bucket).delete(r.storage_key)
            raise RecordingDeleted()


async def release(fetched: FetchedAudio) -> None:
    """Audio that will never be answered: release its provider connection."""
    if isinstance(fetched.audio, InlineAudio):
        await fetched.audio.aclose()
