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

from tether_relay.auth.principal import Principal
from tether_relay.calls.models import Recording
from tether_relay.calls.repository import CallRepository
from tether_relay.calls.snapshot import CallSnapshots
from tether_relay.calls.transcript_service import TranscriptService
from tether_relay.errors import CallNotFound
from tether_relay.providers.base import AudioSource, CallDetails, FetchedAudio, InlineAudio
from tether_relay.providers.registry import ProviderRegistry


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


class RecordingService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        snapshots: CallSnapshots,
        providers: ProviderRegistry,
        transcripts: TranscriptService,
    ) -> None:
        self._sessions = sessions
        self._snapshots = snapshots
        self._providers = providers
        self._transcripts = transcripts

    async def for_call(self, principal: Principal, call_id: str) -> RecordingPayload:
        call = await self._snapshots.visible(principal.organization_id, call_id)
        if call is None:
            raise CallNotFound()
        provider = self._providers.get(call.provider)
        fetched = await provider.audio(call.ref, call.recording)
        try:
            if fetched.discovered:
                await self._remember(call.id, fetched)
            transcript = await self._transcripts.ensure(provider, call, fetched.recording)
        except BaseException:
            if isinstance(fetched.audio, InlineAudio):  # never answered: release the provider connection
                await fetched.audio.aclose()
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
        )

    async def _remember(self, call_id: str, fetched: FetchedAudio) -> None:
        r = fetched.recording
        async with self._sessions() as session:
            await CallRepository(session).save_recording(
                call_id,
                Recording(
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
            await session.commit()
