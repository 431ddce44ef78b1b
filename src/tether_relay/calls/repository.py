"""The only place that builds queries for calls, with calls/search_repository.py (the search index). Every
read a user makes is scoped to an organisation.

Deletion is terminal, and this is where it holds: every write of a call's content (a recording, the
transcript, what is derived from it) is one statement that carries `recording_deleted_at IS NULL` in
its own WHERE, so it lands before a deletion (which then removes it) or not at all, whatever runs
concurrently and on whichever database. Call facts (status, numbers, times) are not content and stay.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    String,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from tether_relay.auth.principal import Principal
from tether_relay.calls.conditions import CallFilter, live
from tether_relay.calls.models import (
    RECORDING_ORDER,
    Call,
    CallRedaction,
    Recording,
    RecordingDeletion,
    SearchDocument,
)
from tether_relay.calls.search_repository import SearchRepository
from tether_relay.db import rowcount, storable, utcnow
from tether_relay.ids import new_recording_id
from tether_relay.providers.base import CallDetails
from tether_relay.redaction.policy import Policy
from tether_relay.transcripts.model import checked

# The fields a deletion removes from the call: the transcript and everything derived from it.
_CONTENT_CLEARED: dict[str, Any] = {
    "transcription_text": None,
    "transcription_data": None,
    "transcription_source": None,
    "transcription_status": "unavailable",
    "summary": None,
    # The lease is taken from any reader in flight: its write, which names the lease, finds no row.
    "transcript_lease_owner": None,
    "transcript_lease_until": None,
    "transcript_retry_after": None,
}


@dataclass(frozen=True, slots=True)
class NewRecording:
    """A recording to attach to a call: where its audio is and what it is."""

    storage_bucket: str | None = None
    storage_key: str | None = None
    provider_recording_id: str | None = None
    content_type: str = "audio/mpeg"
    duration: float | None = None
    channels: int | None = None
    size_bytes: int | None = None
    reference_url: str | None = None
    transcript_key: str | None = None
    id: str | None = None


@dataclass(frozen=True, slots=True)
class CallState:
    organization_id: str
    provider: str
    status: str
    transcription_status: str | None
    readable_recordings: list[tuple[str, str | None]]  # (our id, the provider's id)


@dataclass(frozen=True, slots=True)
class StoredKey:
    bucket: str
    key: str


# CallRepository.of_organization's query, built once. `organization_id || ''`: the same condition, which no
# index serves, so the planner looks the keys up; given an indexed one, SQLite (without statistics) walks
# the organisation's whole index. The recordings in the same statement (joined): one round trip.
_CALLS_BY_ID = (
    select(Call)
    .where(
        Call.id.in_(bindparam("call_ids", expanding=True)),
        Call.organization_id.concat("") == bindparam("organization_id", type_=String),
    )
    .options(joinedload(Call.recordings))
)


class CallRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get_visible_to(self, principal: Principal, call_id: str) -> Call | None:
        query = (
            select(Call)
            .where(Call.id == call_id, Call.organization_id == principal.organization_id)
            .options(selectinload(Call.recordings))
        )
        return (await self._session.scalars(query)).one_or_none()

    async def history(
        self, principal: Principal, filters: CallFilter, *, limit: int, offset: int
    ) -> tuple[list[Call], int]:
        """Newest first (start time, else creation time), served by ix_calls_organization_id_sort_time."""
        scope = [Call.organization_id == principal.organization_id, *filters.conditions()]
        total = await self._session.scalar(select(func.count()).select_from(Call).where(*scope))
        page = await self._session.scalars(
            select(Call)
            .where(*scope)
            .order_by(Call.sort_time.desc(), Call.id.desc())
            .limit(limit)
            .offset(offset)
            .options(selectinload(Call.recordings))
        )
        return list(page), int(total or 0)

    async def get(self, call_id: str) -> Call | None:
        return await self._session.get(Call, call_id, populate_existing=True)

    async def of_organization(self, organization_id: str, call_ids: Sequence[str]) -> dict[str, Call]:
        """These calls of the organisation (with their recordings), by id; others are left out."""
        if not call_ids:
            return {}
        values = {"call_ids": list(call_ids), "organization_id": organization_id}
        found = await self._session.scalars(_CALLS_BY_ID, values)
        return {call.id: call for call in found.unique()}

    async def recordings_of(self, call_id: str) -> list[Recording]:
        """A call's recordings, oldest first; the last is the latest (the order of Call.recordings and of
        the snapshot's latest recording)."""
        query = select(Recording).where(Recording.call_id == call_id).order_by(*RECORDING_ORDER)
        return list(await self._session.scalars(query))

    async def state_of(self, call_id: str) -> CallState | None:
        """What a live call's events are derived from (calls/announcements.py), as this transaction sees
        it: columns, not ORM objects, so the transaction's own bulk UPDATEs are included."""
        row = (
            await self._session.execute(
                select(Call.organization_id, Call.provider, Call.status, Call.transcription_status).where(
                    Call.id == call_id, Call.recording_deleted_at.is_(None)
                )
            )
        ).one_or_none()
        if row is None:
            return None
        readable = await self._session.execute(
            select(Recording.id, Recording.provider_recording_id)
            .where(
                Recording.call_id == call_id,
                (Recording.storage_key.is_not(None)) | (Recording.provider_recording_id.is_not(None)),
            )
            .order_by(*RECORDING_ORDER)
        )
        return CallState(
            row.organization_id,
            row.provider,
            row.status,
            row.transcription_status,
            [(r.id, r.provider_recording_id) for r in readable],
        )

    async def completed_after(self, organization_id: str, after: str, limit: int) -> list[str]:
        """Ids of the organisation's completed calls with a readable recording, after `after` in id order
        (a batch of a walk through all of them)."""
        rows = await self._session.scalars(
            select(Call.id)
            .where(
                Call.organization_id == organization_id,
                Call.id > after,
                Call.status == "completed",
                Call.recording_deleted_at.is_(None),
                exists().where(
                    Recording.call_id == Call.id,
                    Recording.storage_key.is_not(None) | Recording.provider_recording_id.is_not(None),
                ),
            )
            .order_by(Call.id)
            .limit(limit)
        )
        return list(rows)

    async def deletion_of(self, call_id: str) -> RecordingDeletion | None:
        return await self._session.get(RecordingDeletion, call_id, populate_existing=True)

    async def past_retention(self, organization_id: str, before: datetime) -> list[tuple[str, str, datetime]]:
        """(call, provider, history time) of the organisation's calls older than `before` whose recording
        is not deleted; served by ix_calls_organization_id_sort_time."""
        rows = await self._session.execute(
            select(Call.id, Call.provider, Call.sort_time)
            .where(
                Call.organization_id == organization_id,
                Call.sort_time < before,
                Call.recording_deleted_at.is_(None),
            )
            .order_by(Call.sort_time)
        )
        return [(call_id, provider, at) for call_id, provider, at in rows]

    async def find_by_provider_id(
        self, organization_id: str, provider: str, provider_call_id: str
    ) -> Call | None:
        query = select(Call).where(
            Call.organization_id == organization_id,
            Call.provider == provider,
            Call.provider_call_id == provider_call_id,
        )
        return (await self._session.scalars(query)).one_or_none()

    async def find_or_create(self, organization_id: str, provider: str, provider_call_id: str) -> Call:
        """The call a provider event is about, created if this is the first event of it, and held until
        the transaction ends: a no-op UPDATE first takes the row lock on PostgreSQL and the write lock on
        SQLite (whose driver would otherwise read outside any transaction, and two events of one call could
        interleave). A concurrent creation surfaces as IntegrityError at commit; webhooks/events.py retries
        the whole event then."""
        await self._session.execute(
            update(Call)
            .where(
                Call.organization_id == organization_id,
                Call.provider == provider,
                Call.provider_call_id == provider_call_id,
            )
            .values(provider_call_id=Call.provider_call_id, updated_at=Call.updated_at)  # changes nothing
            .execution_options(synchronize_session=False)
        )
        query = (
            select(Call)
            .where(
                Call.organization_id == organization_id,
                Call.provider == provider,
                Call.provider_call_id == provider_call_id,
            )
            .options(selectinload(Call.recordings))
            .with_for_update()
        )
        call = (await self._session.scalars(query)).one_or_none()
        if call is None:
            call = Call(
                organization_id=organization_id,
                provider=provider,
                provider_call_id=provider_call_id,
                status="initiated",
                recordings=[],
            )
            self._session.add(call)
            await self._session.flush()
        return call

    async def add(self, call: Call) -> None:
        """A new call (its transcript indexed for search); its recordings are attached with
        `attach_recording`, the one way rows are made."""
        self._session.add(call)
        await self._session.flush()
        await SearchRepository(self._session).index(call.id, call.transcription_text, call.transcription_data)

    def add_deletion(self, deletion: RecordingDeletion) -> RecordingDeletion:
        """The receipt of a deletion (`mark_deleted` is what makes it terminal, in the same transaction)."""
        self._session.add(deletion)
        return deletion

    async def flush(self) -> None:
        await self._session.flush()

    async def cached_transcript(self, call_id: str) -> tuple[str | None, str | None, Any, bool] | None:
        """(status, text, data, whether the recording was deleted) of the transcript cache as committed."""
        row = (
            await self._session.execute(
                select(
                    Call.transcription_status,
                    Call.transcription_text,
                    Call.transcription_data,
                    Call.recording_deleted_at.is_not(None),
                ).where(Call.id == call_id)
            )
        ).one_or_none()
        return None if row is None else (row[0], row[1], row[2], bool(row[3]))

    # The transcript lease: one reader, in any replica, fetches a call's transcript at a time.

    async def take_transcript_lease(self, call_id: str, owner: str, now: datetime, until: datetime) -> bool:
        result = await self._session.execute(
            update(Call)
            .where(
                live(call_id),
                Call.transcription_fetched_at.is_(None),
                (Call.transcript_lease_until.is_(None)) | (Call.transcript_lease_until < now),
                (Call.transcript_retry_after.is_(None)) | (Call.transcript_retry_after <= now),
            )
            .values(transcript_lease_owner=owner, transcript_lease_until=until)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1

    async def store_transcript(
        self,
        call_id: str,
        owner: str,
        *,
        status: str,
        source: str,
        text: str | None,
        data: Any,
        now: datetime,
        details: CallDetails | None,
    ) -> tuple[str | None, Any] | None:
        """Final transcript (ready or unavailable) from the lease holder; call facts the provider reported
        fill only gaps. The (text, data) stored, None if nothing was (deleted, or the lease was lost);
        UnrenderableTranscript if the data could not be rendered."""
        transcript = _transcript(status, source, text, data, now)
        values: dict[str, Any] = {
            **transcript,
            "transcript_lease_owner": None,
            "transcript_lease_until": None,
            "transcript_retry_after": None,
        }
        if details is not None:
            for column, value in (
                ("from_number", details.from_number),
                ("to_number", details.to_number),
                ("direction", details.direction),
                ("duration", details.duration),
                ("start_time", details.start_time),
            ):
                if value is not None:
                    values[column] = func.coalesce(getattr(Call, column), storable(value))
            if details.start_time is not None:  # a bulk UPDATE skips the model's sort_time hook
                values["sort_time"] = func.coalesce(Call.start_time, details.start_time)
        if not await self._update_leased(call_id, owner, values):
            return None
        text, data = transcript["transcription_text"], transcript["transcription_data"]
        await SearchRepository(self._session).index(call_id, text, data)
        return text, data

    async def defer_transcript(self, call_id: str, owner: str, *, status: str, retry_after: datetime) -> bool:
        """Not final (provider still processing, or it failed): try again after `retry_after`."""
        values = {
            "transcription_status": status,
            "transcript_retry_after": retry_after,
            "transcript_lease_owner": None,
            "transcript_lease_until": None,
        }
        return await self._update_leased(call_id, owner, values)

    async def deliver_transcript(
        self, call_id: str, *, source: str, text: str | None, data: Any, now: datetime
    ) -> bool:
        """A final transcript the provider pushed to us (a webhook). The provider's own transcript wins
        over anything cached that is not a transcript (unavailable, failed, pending), and takes the lease
        away from a reader fetching one, so the reader's answer cannot overwrite it."""
        transcript = _transcript("ready", source, text, data, now)
        values = {
            **transcript,
            "transcript_lease_owner": None,
            "transcript_lease_until": None,
            "transcript_retry_after": None,
        }
        result = await self._session.execute(
            update(Call)
            .where(live(call_id), Call.transcription_status.is_distinct_from("ready"))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) != 1:
            return False
        await SearchRepository(self._session).index(
            call_id, transcript["transcription_text"], transcript["transcription_data"]
        )
        return True

    async def set_summary(self, call_id: str, summary: str) -> bool:
        """The provider's summary of the transcript (content: refused after a deletion)."""
        result = await self._session.execute(
            update(Call)
            .where(live(call_id))
            .values(summary=summary)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1

    async def _update_leased(self, call_id: str, owner: str, values: dict[str, Any]) -> bool:
        result = await self._session.execute(
            update(Call)
            .where(live(call_id), Call.transcript_lease_owner == owner)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1

    async def attach_recording(self, call_id: str, recording: NewRecording) -> str | None:
        """Add a recording to a live call; its id, or None when the call's recording was deleted.

        One INSERT … SELECT from the call's row under the guard. On PostgreSQL the row is read FOR SHARE,
        so a deletion in progress is waited for and then seen (a foreign key's own lock would not wait)."""
        recording_id = recording.id or new_recording_id()
        values = {
            "recording_id": recording_id,
            "call_id": call_id,
            "storage_bucket": recording.storage_bucket,
            "storage_key": recording.storage_key,
            "provider_recording_id": recording.provider_recording_id,
            "content_type": recording.content_type,
            "duration": recording.duration,
            "channels": recording.channels,
            "size_bytes": recording.size_bytes,
            "reference_url": recording.reference_url,
            "transcript_key": recording.transcript_key,
            "created_at": utcnow(),
        }
        table = Recording.__table__
        source = select(
            *(literal(value, table.c[name].type).label(name) for name, value in values.items())
        ).where(live(call_id))
        result = await self._session.execute(
            insert(Recording).from_select(list(values), source.with_for_update(read=True, of=Call))
        )
        return recording_id if rowcount(result) == 1 else None

    async def update_recording(self, call_id: str, recording_id: str, **values: Any) -> bool:
        """Fill in what was learnt about a recording of a live call (None values are left as they are)."""
        changes = {name: value for name, value in values.items() if value is not None}
        if not changes:
            return True
        result = await self._session.execute(
            update(Recording)
            .where(
                Recording.id == recording_id,
                Recording.call_id == call_id,
                exists().where(live(call_id)),
            )
            .values(**changes)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1

    async def save_recording(self, call_id: str, recording: NewRecording) -> bool:
        """Remember a recording a provider revealed on a read (update the row with that id, or add it).
        False when the call's recording was deleted meanwhile."""
        assert recording.id is not None
        exists_already = await self._session.scalar(
            select(Recording.id).where(Recording.id == recording.id, Recording.call_id == call_id)
        )
        if exists_already is None:
            return await self.attach_recording(call_id, recording) is not None
        return await self.update_recording(
            call_id,
            recording.id,
            storage_bucket=recording.storage_bucket,
            storage_key=recording.storage_key,
            provider_recording_id=recording.provider_recording_id,
            content_type=recording.content_type,
            duration=recording.duration,
            channels=recording.channels,
            size_bytes=recording.size_bytes,
        )

    async def mark_deleted(self, call_id: str, at: datetime) -> list[StoredKey]:
        """Make the deletion of a call's recording terminal: content cleared, the lease taken away, every
        recording row removed. Returns the stored objects those rows named, to delete after the commit.
        Call facts (from, to, direction, times, duration, status, agent) are kept."""
        await self._session.execute(
            update(Call)
            .where(Call.id == call_id)
            .values(
                recording_deleted_at=func.coalesce(Call.recording_deleted_at, at),
                transcription_fetched_at=at,
                **_CONTENT_CLEARED,
            )
            .execution_options(synchronize_session=False)
        )
        metadata = await self._session.scalar(select(Call.provider_metadata).where(Call.id == call_id))
        if metadata and "transcriptKey" in metadata:  # where a transcript file was announced: content
            kept = {k: v for k, v in metadata.items() if k != "transcriptKey"}
            await self._session.execute(
                update(Call)
                .where(Call.id == call_id)
                .values(provider_metadata=kept or None)
                .execution_options(synchronize_session=False)
            )
        removed = await self._session.execute(
            delete(Recording)
            .where(Recording.call_id == call_id)
            .returning(Recording.storage_bucket, Recording.storage_key, Recording.transcript_key)
        )
        # Nothing of it is found by search any more (the redacted copy's terms included).
        await self._session.execute(delete(SearchDocument).where(SearchDocument.call_id == call_id))
        # The redacted copy goes with the original: every copy, whoever could read it.
        redacted = await self._session.execute(
            delete(CallRedaction)
            .where(CallRedaction.call_id == call_id)
            .returning(CallRedaction.storage_bucket, CallRedaction.storage_key)
        )
        return [
            StoredKey(bucket, key)
            for bucket, *keys in [*removed.all(), *redacted.all()]
            if bucket is not None
            for key in keys
            if key is not None
        ]

    async def referenced(self, bucket: str, keys: Sequence[str]) -> set[str]:
        """Which of `keys` in `bucket` a recording row names (as its audio or its transcript file)."""
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            batch = list(keys[start : start + 500])
            rows = await self._session.execute(
                select(Recording.storage_key, Recording.transcript_key).where(
                    Recording.storage_bucket == bucket,
                    Recording.storage_key.in_(batch) | Recording.transcript_key.in_(batch),
                )
            )
            for storage_key, transcript_key in rows:
                found.update(k for k in (storage_key, transcript_key) if k in batch)
            redacted = await self._session.scalars(
                select(CallRedaction.storage_key).where(
                    CallRedaction.storage_bucket == bucket, CallRedaction.storage_key.in_(batch)
                )
            )
            found.update(k for k in redacted if k is not None)
        return found


def _transcript(status: str, source: str, text: str | None, data: Any, now: datetime) -> dict[str, Any]:
    """The columns of a final transcript; its data checked against what the recording answer renders,
    after what neither database stores (NUL, lone surrogates) is replaced."""
    return {
        "transcription_status": status,
        "transcription_source": source,
        "transcription_text": storable(text),
        "transcription_data": checked(storable(data)),
        "transcription_fetched_at": now,
    }


# --- the call's redacted copy (call_redactions) -------------------------------------------------
# Every write is conditional (on the policy it was asked under, on its status, on the call's recording
# not being deleted), so a job that finishes late, after a deletion, or under a policy since changed,
# changes nothing.


def _live_call_exists(call_id: str) -> Any:
    return exists().where(Call.id == call_id, Call.recording_deleted_at.is_(None))


class RedactionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, call_id: str) -> CallRedaction | None:
        return await self._session.scalar(select(CallRedaction).where(CallRedaction.call_id == call_id))

    async def request(self, organization_id: str, call_id: str, policy: Policy, now: datetime) -> bool:
        """A pending redaction under `policy`, unless the call has one under it already (pending, ready
        or failed). True when this made it: the caller enqueues the job in the same transaction."""
        dialect = (await self._session.connection()).dialect.name
        dialect_insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        added = await self._session.scalar(
            dialect_insert(CallRedaction)
            .values(
                call_id=call_id,
                organization_id=organization_id,
                status="pending",
                policy=policy.to_json(),
                policy_key=policy.key,
                requested_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing()
            .returning(CallRedaction.call_id)
        )
        if added is not None:
            return True
        # Made under another policy: made again (the old copy serves nobody, and is deleted on success).
        changed = await self._session.execute(
            update(CallRedaction)
            .where(
                CallRedaction.call_id == call_id,
                CallRedaction.policy_key != policy.key,
                _live_call_exists(call_id),
            )
            .values(
                status="pending", policy=policy.to_json(), policy_key=policy.key, error=None, requested_at=now
            )
            .execution_options(synchronize_session=False)
        )
        return rowcount(changed) == 1

    async def renew(self, call_id: str, policy_key: str, older_than: datetime, now: datetime) -> bool:
        """Take over a pending request nobody finished in time (its job held or lost): True if this did."""
        renewed = await self._session.execute(
            update(CallRedaction)
            .where(
                CallRedaction.call_id == call_id,
                CallRedaction.policy_key == policy_key,
                CallRedaction.status == "pending",
                CallRedaction.requested_at < older_than,
            )
            .values(requested_at=now)
            .execution_options(synchronize_session=False)
        )
        return rowcount(renewed) == 1

    async def finish(
        self, call_id: str, policy_key: str, values: dict[str, Any]
    ) -> tuple[bool, StoredKey | None]:
        """Record the copy made under `policy_key` if it is still wanted: (True, the copy it replaces, to
        delete after the commit); (False, None) if it is not wanted (deleted, or asked again under
        another policy), when the caller deletes what it stored."""
        previous = await self.get(call_id)
        if previous is None or previous.policy_key != policy_key or previous.status != "pending":
            return False, None
        done = await self._session.execute(
            update(CallRedaction)
            .where(
                CallRedaction.call_id == call_id,
                CallRedaction.policy_key == policy_key,
                CallRedaction.status == "pending",
                _live_call_exists(call_id),
            )
            .values(status="ready", error=None, **values)
            .execution_options(synchronize_session=False)
        )
        if rowcount(done) != 1:
            return False, None
        await SearchRepository(self._session).index(
            call_id, values.get("transcription_text"), values.get("transcription_data"), redacted=True
        )
        if (
            previous.storage_bucket
            and previous.storage_key
            and previous.storage_key != values.get("storage_key")
        ):
            return True, StoredKey(previous.storage_bucket, previous.storage_key)
        return True, None

    async def fail(self, call_id: str, policy_key: str, error: str) -> None:
        await self._session.execute(
            update(CallRedaction)
            .where(
                CallRedaction.call_id == call_id,
                CallRedaction.policy_key == policy_key,
                CallRedaction.status == "pending",
            )
            .values(status="failed", error=error[:200])
            .execution_options(synchronize_session=False)
        )

    async def ready_transcripts(self, call_ids: list[str], policy_key: str) -> dict[str, Any]:
        """The redacted transcript data of each of these calls whose copy under `policy_key` is ready."""
        return await self._of_ready(CallRedaction.transcription_data, call_ids, policy_key)

    async def ready_summaries(self, call_ids: list[str], policy_key: str) -> dict[str, str | None]:
        """The redacted summary of each of these calls whose copy under `policy_key` is ready."""
        return await self._of_ready(CallRedaction.summary, call_ids, policy_key)

    async def _of_ready(self, column: Any, call_ids: list[str], policy_key: str) -> dict[str, Any]:
        rows = await self._session.execute(
            select(CallRedaction.call_id, column).where(
                CallRedaction.call_id.in_(call_ids),
                CallRedaction.status == "ready",
                CallRedaction.policy_key == policy_key,
            )
        )
        return {call_id: value for call_id, value in rows}
