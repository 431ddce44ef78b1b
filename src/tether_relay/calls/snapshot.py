"""The recording read's one query: a call, its latest recording and its transcript cache, by primary key.

Why this is not the ORM: profiled under load (docs/performance.md), about 70 % of a cached recording read
went to an async ORM session, two queries (`selectinload`) and aiosqlite's thread hand-offs. This module
runs one Core `SELECT … LEFT JOIN`, compiled once per database:

- SQLite: on the stdlib driver, on the event loop. A primary-key read in WAL mode takes tens of
  microseconds and never waits for a writer, so a hop to a worker thread costs more than the read.
- PostgreSQL: on the pool's asyncpg connection, whose prepared statements asyncpg caches.

Values go through the columns' own SQLAlchemy types, so a snapshot holds exactly what the ORM would
load; tests/integration/test_call_snapshot.py holds the two equal on both databases.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import aliased

from tether_relay.calls.models import Call, Recording
from tether_relay.providers.base import CallRef, RecordingRef


@dataclass(frozen=True, slots=True)
class CallSnapshot:
    """What the recording read needs of a call, as committed when it was read."""

    id: str
    organization_id: str
    provider: str
    provider_call_id: str
    direction: str | None
    from_number: str | None
    to_number: str | None
    duration: float | None
    transcription_status: str | None
    transcription_text: str | None
    transcription_data: Any | None
    transcription_fetched_at: datetime | None
    transcript_retry_after: datetime | None
    transcript_lease_until: datetime | None
    recording: RecordingRef | None

    @property
    def ref(self) -> CallRef:
        return CallRef(self.id, self.organization_id, self.provider, self.provider_call_id, self.direction)


_CALL_COLUMNS = (
    Call.id,
    Call.organization_id,
    Call.provider,
    Call.provider_call_id,
    Call.direction,
    Call.from_number,
    Call.to_number,
    Call.duration,
    Call.transcription_status,
    Call.transcription_text,
    Call.transcription_data,
    Call.transcription_fetched_at,
    Call.transcript_retry_after,
    Call.transcript_lease_until,
)
_RECORDING_COLUMNS = (
    Recording.id,
    Recording.storage_bucket,
    Recording.storage_key,
    Recording.provider_recording_id,
    Recording.content_type,
    Recording.duration,
    Recording.transcript_key,
)

# The latest recording, in the order Call.recordings lists them (created_at, then id).
_newer = aliased(Recording)
_LATEST_RECORDING = (
    select(_newer.id)
    .where(_newer.call_id == Call.id)
    .order_by(_newer.created_at.desc(), _newer.id.desc())
    .limit(1)
    .correlate(Call)
    .scalar_subquery()
)
_QUERY = (
    select(*_CALL_COLUMNS, *_RECORDING_COLUMNS)
    .select_from(Call)
    .outerjoin(Recording, and_(Recording.call_id == Call.id, Recording.id == _LATEST_RECORDING))
    .where(Call.id == bindparam("call_id"), Call.organization_id == bindparam("organization_id"))
)


class CallSnapshots:
    """Reads snapshots of an organisation's calls; one per runtime."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sqlite: _SQLiteReader | None = None
        if engine.dialect.name == "sqlite":
            self._sqlite = _SQLiteReader(engine)

    async def visible(self, organization_id: str, call_id: str) -> CallSnapshot | None:
        """The call if it belongs to this organisation; None otherwise (or if there is no such call)."""
        params = {"call_id": call_id, "organization_id": organization_id}
        row: Sequence[Any] | None
        if self._sqlite is not None:
            row = self._sqlite.first(params)
        else:
            # asyncpg is natively async and SQLAlchemy's adapter caches its prepared statements: Core
            # on a pooled connection is already close to the driver here.
            async with self._engine.connect() as connection:
                row = (await connection.execute(_QUERY, params)).first()
        return _snapshot(row) if row is not None else None

    def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()


class _SQLiteReader:
    """The query on the stdlib driver, values decoded by the columns' own SQLAlchemy types."""

    def __init__(self, engine: AsyncEngine) -> None:
        database = engine.url.database
        if not database or database == ":memory:":
            raise ValueError("an in-memory SQLite database cannot be shared between connections; use a file")
        self._path = database
        dialect = engine.dialect
        compiled = _QUERY.compile(dialect=dialect)
        self._sql = compiled.string
        self._order = tuple(compiled.positiontup or ())
        # The subquery's LIMIT/OFFSET values; the two named parameters are given on every read.
        self._defaults = compiled.construct_params({"call_id": "", "organization_id": ""})
        self._decoders = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in (*_CALL_COLUMNS, *_RECORDING_COLUMNS)
        )
        self._connection: sqlite3.Connection | None = None

    def first(self, params: dict[str, Any]) -> list[Any] | None:
        values = {**self._defaults, **params}
        rows = self._connect().execute(self._sql, [values[name] for name in self._order]).fetchall()
        if not rows:
            return None
        return [
            value if decode is None else decode(value)
            for value, decode in zip(rows[0], self._decoders, strict=True)
        ]

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            # Autocommit, and fetchall() steps the statement to its end: no read transaction stays open
            # between reads, so each read sees the latest commit.
            connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA query_only=ON")
            connection.execute("PRAGMA busy_timeout=5000")
            self._connection = connection
        return self._connection


def _snapshot(row: Sequence[Any]) -> CallSnapshot:
    split = len(_CALL_COLUMNS)
    recording = RecordingRef(*row[split:]) if row[split] is not None else None
    return CallSnapshot(*row[:split], recording)  # type: ignore[call-arg]
