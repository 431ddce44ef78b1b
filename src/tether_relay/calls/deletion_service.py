"""Deleting a call's recording: our stored copy, the provider's copy where its API allows, and the
transcript (it is the recording's content), with a receipt kept of who deleted what and when. Used by
DELETE /api/calls/{callId}/recording, `tether-relay retention sweep` and its scheduled job.

Order: the stored objects first (a failure there records nothing, so the caller can simply retry),
then the provider's copy (a failure there is recorded as `failed` and retried by the next DELETE),
then one transaction marks the call deleted. Reads answer RECORDING_DELETED from then on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tether_relay.calls.announcements import announce_deletion
from tether_relay.calls.models import Recording, RecordingDeletion
from tether_relay.calls.repository import CallRepository, StoredKey
from tether_relay.calls.snapshot import CallSnapshots
from tether_relay.db import utcnow
from tether_relay.errors import AppError, CallNotFound, RecordingDeletionFailed
from tether_relay.organizations.repository import OrganizationRepository
from tether_relay.providers.base import CallRef, ProviderCopy, RecordingRef
from tether_relay.providers.errors import ProviderError
from tether_relay.providers.registry import ProviderRegistry
from tether_relay.storage.base import StorageError
from tether_relay.storage.buckets import Buckets

log = logging.getLogger("tether_relay.deletion")


class RetentionIncomplete(Exception):
    """Some expired recordings could not be deleted in this sweep."""


@dataclass(frozen=True, slots=True)
class Receipt:
    call_id: str
    deleted_at: datetime
    deleted_by: str
    reason: str
    recording_ids: list[str]
    stored_copy: str
    provider_copy: str

    @classmethod
    def of(cls, row: RecordingDeletion) -> Receipt:
        return cls(
            row.call_id,
            row.deleted_at,
            row.deleted_by,
            row.reason,
            list(row.recording_ids),
            row.stored_copy,
            row.provider_copy,
        )


@dataclass(frozen=True, slots=True)
class Expired:
    organization_id: str
    call_id: str
    provider: str
    age_days: float


@dataclass(frozen=True, slots=True)
class Swept:
    """One expired call's fate in a retention sweep: its receipt, or the error code that stopped it."""

    call: Expired
    receipt: Receipt | None = None
    error_code: str | None = None


RETENTION_SWEEP = "retention-sweep"  # the scheduled job (jobs/schedules.py)


class DeletionService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        snapshots: CallSnapshots,
        providers: ProviderRegistry,
        buckets: Buckets,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._snapshots = snapshots
        self._providers = providers
        self._buckets = buckets
        self._clock = clock

    async def delete(self, organization_id: str, call_id: str, *, by: str, reason: str) -> Receipt:
        call = await self._snapshots.visible(organization_id, call_id)
        if call is None:
            raise CallNotFound()
        async with self._sessions() as session:
            calls = CallRepository(session)
            earlier = await calls.deletion_of(call_id)
            recordings = await calls.recordings_of(call_id)
        if earlier is not None and earlier.provider_copy != "failed":
            return Receipt.of(earlier)  # deleting twice is answered with the first receipt
        latest = recordings[-1].ref() if recordings else call.recording
        deletion = RecordingDeletion(
            call_id=call_id,
            organization_id=organization_id,
            provider=call.provider,
            recording_ids=[r.provider_recording_id or r.id for r in recordings],
            deleted_by=by,
            reason=reason,
            deleted_at=self._clock(),
            stored_copy=await self._delete_stored(recordings),
            provider_copy=await self._delete_provider_copy(call.ref, latest),
        )
        return await self._record(deletion)

    async def expired(self, now: datetime | None = None) -> list[Expired]:
        """Calls whose organisation's retention period has passed and whose recording is not deleted.
        One query per organisation with a retention period, on ix_calls_organization_id_sort_time."""
        now = now or self._clock()
        async with self._sessions() as session:
            found = []
            for organization_id, days in await OrganizationRepository(session).retention_periods():
                rows = await CallRepository(session).past_retention(
                    organization_id, now - timedelta(days=days)
                )
                found += [
                    Expired(organization_id, call_id, provider, round((now - at).total_seconds() / 86400, 1))
                    for call_id, provider, at in rows
                ]
            return found

    async def sweep_expired(self) -> list[Swept]:
        """Delete every recording past its organisation's retention (`tether-relay retention sweep` and the
        scheduled job). Safe on many replicas at once: each deletion is recorded once."""
        swept = []
        for call in await self.expired():
            try:
                receipt = await self.delete(
                    call.organization_id, call.call_id, by="retention", reason="retention"
                )
            except AppError as exc:
                swept.append(Swept(call, error_code=exc.code))
                continue
            swept.append(Swept(call, receipt))
        return swept

    async def retention_job(self, _payload: dict[str, str]) -> None:
        swept = await self.sweep_expired()
        failed = sum(1 for s in swept if s.receipt is None)
        log.info("retention sweep", extra={"deleted": len(swept) - failed, "failed": failed})
        if failed:
            raise RetentionIncomplete()  # retried: the next run deletes what failed now

    async def _delete_stored(self, recordings: list[Recording]) -> str:
        keys = [
            (r.storage_bucket, key)
            for r in recordings
            if r.storage_bucket is not None
            for key in (r.storage_key, r.transcript_key)
            if key is not None
        ]
        try:
            for bucket, key in keys:
                await self._buckets.get(bucket).delete(key)
        except StorageError as exc:
            raise RecordingDeletionFailed() from exc
        return "deleted" if keys else "none"

    async def _delete_provider_copy(self, call_ref: CallRef, recording: RecordingRef | None) -> ProviderCopy:
        try:
            return await self._providers.get(call_ref.provider).delete(call_ref, recording)
        except ProviderError as exc:
            log.warning("provider copy not deleted", extra={"provider": call_ref.provider, "cause": str(exc)})
            return "failed"

    async def _record(self, deletion: RecordingDeletion) -> Receipt:
        """Keep the receipt and mark the call deleted, in one transaction. A recording that arrived while
        the copies were being deleted is removed with the rest, and its object deleted after the commit
        (should that fail, the object is unreferenced and `tether-relay storage sweep` removes it)."""
        try:
            async with self._sessions.begin() as session:
                calls = CallRepository(session)
                row = await calls.deletion_of(deletion.call_id)
                if row is None:
                    row = calls.add_deletion(deletion)
                else:  # a retry after the provider's copy failed: the first receipt, brought up to date
                    row.provider_copy = deletion.provider_copy
                    if deletion.stored_copy == "deleted":
                        row.stored_copy = deletion.stored_copy
                late = await calls.mark_deleted(deletion.call_id, row.deleted_at)
                await announce_deletion(session, row)
            receipt = Receipt.of(row)
        except IntegrityError:  # another request or replica recorded it first: its receipt stands
            async with self._sessions() as session:
                first = await CallRepository(session).deletion_of(deletion.call_id)
            assert first is not None
            return Receipt.of(first)
        await self._delete_late(late)
        return receipt

    async def _delete_late(self, keys: list[StoredKey]) -> None:
        for stored in keys:
            try:
                await self._buckets.get(stored.bucket).delete(stored.key)
            except StorageError as exc:
                log.warning("late object not deleted; the storage sweep will", extra={"cause": str(exc)})
