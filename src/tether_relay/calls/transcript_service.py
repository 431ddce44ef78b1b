"""The transcript cache: fetched from the provider on the first read, stored on the Call, never fetched
again once final. Coordination is in the database (a lease on the call's row), so concurrent first reads
in any number of replicas make exactly one provider request; the others wait for its result.

Statuses: `ready` (final, with a transcript), `unavailable` (final: the provider has none), `pending`
(the provider is still processing; retried at most once per TETHER_TRANSCRIPT_RETRY_SECONDS) and
`failed` (the provider could not be reached; retried on the same schedule). A failure never fails the
recording: the read answers with `transcriptionText: null`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tether_relay.calls.announcements import announce
from tether_relay.calls.repository import CallRepository
from tether_relay.calls.snapshot import CallSnapshot, CallSnapshots
from tether_relay.db import utcnow
from tether_relay.errors import RecordingDeleted
from tether_relay.metrics import TRANSCRIPT_CACHE
from tether_relay.providers.base import CallDetails, Provider, RecordingRef, TranscriptResult
from tether_relay.providers.deadline import current_deadline
from tether_relay.transcripts.model import UnrenderableTranscript, text_of

log = logging.getLogger("tether_relay.transcripts")


@dataclass(frozen=True, slots=True)
class TranscriptView:
    status: str | None
    text: str | None
    data: Any | None
    # Call facts the provider reported with the transcript (stored too; here so this read can show them).
    details: CallDetails | None = None

    @property
    def public_status(self) -> str:
        """`transcriptionStatus`: ready | pending | unavailable | failed (docs/readiness.md)."""
        if self.status in ("ready", "pending", "unavailable", "failed"):
            return self.status
        # Never fetched: a transcript that came with the call (ingest, webhook) is ready; none is none.
        return "ready" if self.text or self.data else "unavailable"

    @classmethod
    def of(cls, call: CallSnapshot) -> TranscriptView:
        return cls(
            call.transcription_status,
            call.transcription_text or text_of(call.transcription_data),
            call.transcription_data,
        )


class TranscriptService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        snapshots: CallSnapshots,
        *,
        retry_seconds: int,
        lease_seconds: int,
        clock: Callable[[], datetime] = utcnow,
        poll_seconds: float = 0.05,
    ) -> None:
        self._sessions = sessions
        self._snapshots = snapshots
        self._retry = timedelta(seconds=retry_seconds)
        self._lease = timedelta(seconds=lease_seconds)
        self._clock = clock
        self._poll = poll_seconds
        self._in_flight: dict[str, asyncio.Task[TranscriptView]] = {}

    async def ensure(
        self, provider: Provider, call: CallSnapshot, recording: RecordingRef | None
    ) -> TranscriptView:
        if not provider.fetches_transcripts:
            return TranscriptView.of(call)
        if not _may_fetch(call, self._clock()):
            TRANSCRIPT_CACHE.labels(call.provider, "hit").inc()
            return TranscriptView.of(call)
        TRANSCRIPT_CACHE.labels(call.provider, "miss").inc()
        # Readers of one call in this process share one task: one of them competes for the lease (the
        # coordination across replicas), the others wait for its result here instead of polling. The task
        # runs on if the reader that started it goes away. An optimisation only; the lease decides.
        task = self._in_flight.get(call.id)
        if task is None:
            task = asyncio.create_task(self._fetch_or_wait(provider, call, recording))
            self._in_flight[call.id] = task
            task.add_done_callback(lambda _: self._in_flight.pop(call.id, None))
        return await asyncio.shield(task)

    async def _fetch_or_wait(
        self, provider: Provider, call: CallSnapshot, recording: RecordingRef | None
    ) -> TranscriptView:
        owner = secrets.token_hex(8)
        ref = call.ref
        latest = await self._acquire(call, owner)
        if latest is not None:
            return latest  # another reader fetched it, or it is not due yet
        try:
            result = await provider.transcript(ref, recording)
        except Exception as exc:  # noqa: BLE001 - a transcript failure never fails the recording
            log.warning("transcript fetch failed", extra={"provider": ref.provider, "cause": str(exc)})
            await self._defer(ref.call_id, owner, "failed")
            return TranscriptView("failed", None, None)
        if result is None:  # the adapter had nothing to fetch after all
            await self._defer(ref.call_id, owner, "unavailable")
            return TranscriptView.of(call)
        return await self._record(ref.call_id, owner, result)

    async def _acquire(self, call: CallSnapshot, owner: str) -> TranscriptView | None:
        """Take the lease (None), or return what a reader holding it produced, waiting up to one lease.

        Waiters poll the call with cheap reads and try the lease (a write) only when it looks free, so a
        hundred readers arriving together cost one write each at most, not one per poll."""
        # Waiting on another replica's fetch is part of this read, held to the same budget as its own.
        deadline = min(
            time.monotonic() + self._lease.total_seconds(), current_deadline(self._lease.total_seconds()).at
        )
        latest: CallSnapshot | None = call
        while True:
            now = self._clock()
            if latest is not None and latest.recording_deleted_at is not None:
                raise RecordingDeleted()
            if latest is None or not _may_fetch(latest, now) or time.monotonic() > deadline:
                return TranscriptView.of(latest) if latest else TranscriptView(None, None, None)
            if latest.transcript_lease_until is None or latest.transcript_lease_until < now:
                if await self._take_lease(call.id, owner, now):
                    return None
            else:
                await asyncio.sleep(self._poll)
            latest = await self._snapshots.visible(call.organization_id, call.id)

    async def _take_lease(self, call_id: str, owner: str, now: datetime) -> bool:
        async with self._sessions.begin() as session:
            taken = await CallRepository(session).take_transcript_lease(
                call_id, owner, now, now + self._lease
            )
        return taken

    async def _record(self, call_id: str, owner: str, result: TranscriptResult) -> TranscriptView:
        if not result.final:  # still processing, or the provider failed us: asked again later
            await self._defer(call_id, owner, result.status)
            return TranscriptView(result.status, None, None)
        try:
            async with self._sessions.begin() as session:
                stored = await CallRepository(session).store_transcript(
                    call_id,
                    owner,
                    status=result.status,
                    source=result.source,
                    text=result.text,
                    data=result.data,
                    now=self._clock(),
                    details=result.details,
                )
                if stored is not None:
                    await announce(session, call_id)
        except UnrenderableTranscript as exc:  # a final answer we could not serve is not cached
            log.warning("transcript not cached", extra={"provider": result.source, "cause": str(exc)})
            await self._defer(call_id, owner, "failed")
            return TranscriptView("failed", None, None)
        if stored is None:  # the recording was deleted, or a pushed transcript took the lease: theirs stands
            return await self._current(call_id)
        text, data = stored  # as stored, not as fetched: made storable on the way in
        return TranscriptView(result.status, text, data, result.details)

    async def _current(self, call_id: str) -> TranscriptView:
        async with self._sessions() as session:
            cached = await CallRepository(session).cached_transcript(call_id)
        if cached is None:
            return TranscriptView(None, None, None)
        status, text, data, deleted = cached
        if deleted:  # deleted while this read was in flight: it answers as every later read will
            raise RecordingDeleted()
        return TranscriptView(status, text or text_of(data), data)

    async def _defer(self, call_id: str, owner: str, status: str) -> None:
        async with self._sessions.begin() as session:
            await CallRepository(session).defer_transcript(
                call_id, owner, status=status, retry_after=self._clock() + self._retry
            )


def _may_fetch(call: CallSnapshot, now: datetime) -> bool:
    if call.transcription_fetched_at is not None or call.recording_deleted_at is not None:
        return False  # final: cached for good
    return call.transcript_retry_after is None or call.transcript_retry_after <= now
