"""The recording read's one query: a call, its latest recording and its transcript cache, by primary key.

Why this is not the ORM: profiled under load (docs/performance.md), about 70 % of a cached recording read
went to an async ORM session, two queries (`selectinload`) and aiosqlite's thread hand-offs. This module
runs one Core `SELECT … LEFT JOIN`, compiled once per database:

- SQLite: on the stdlib driver, on the event loop. A primary-key read in WAL mode takes tens of
  microseconds and never waits for a writer, so a hop to a worker thread costs more than the read.
- PostgreSQL: as an asyncpg prepared statement on a small pool of its own.

Values go through the columns' own SQLAlchemy types, so a snapshot holds exactly what the ORM would
load; tests/integration/test_call_snapshot.py holds the two equal on both databases.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from opentelemetry.trace import SpanKind
from sqlalchemy import and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import aliased

from tether_relay import tracing
from tether_relay.calls.models import RECORDING_ORDER, Call, CallRedaction, Recording
from tether_relay.organizations.models import Organization
from tether_relay.providers.base import CallRef, RecordingRef


@dataclass(frozen=True, slots=True)
class RedactionRef:
    """The call's redacted copy (calls/models.py CallRedaction), as the read needs it."""

    status: str
    policy_key: str
    storage_bucket: str | None
    storage_key: str | None
    content_type: str | None
    duration: float | None
    transcription_text: str | None
    transcription_data: Any | None
    summary: str | None
    requested_at: datetime


@dataclass(frozen=True, slots=True)
class CallSnapshot:
    """What the recording read needs of a call, as committed when it was read."""

    id: str
    organization_id: str
    provider: str
    provider_call_id: str
    status: str
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
    recording_deleted_at: datetime | None
    recording: RecordingRef | None
    redaction_policy: Any | None  # the organisation's (redaction/policy.py), as stored
    redaction: RedactionRef | None

    @property
    def ref(self) -> CallRef:
        return CallRef(self.id, self.organization_id, self.provider, self.provider_call_id, self.direction)


_CALL_COLUMNS = (
    Call.id,
    Call.organization_id,
    Call.provider,
    Call.provider_call_id,
    Call.status,
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
    Call.recording_deleted_at,
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

_REDACTION_COLUMNS = (
    CallRedaction.status,
    CallRedaction.policy_key,
    CallRedaction.storage_bucket,
    CallRedaction.storage_key,
    CallRedaction.content_type,
    CallRedaction.duration,
    CallRedaction.transcription_text,
    CallRedaction.transcription_data,
    CallRedaction.summary,
    CallRedaction.requested_at,
)
_COLUMNS = (*_CALL_COLUMNS, *_RECORDING_COLUMNS, Organization.redaction_policy, *_REDACTION_COLUMNS)

# The latest recording, in the order Call.recordings lists them (created_at, then id).
_newer = aliased(Recording)
_LATEST_RECORDING = (
    select(_newer.id)
    .where(_newer.call_id == Call.id)
    .order_by(*(getattr(_newer, column.key).desc() for column in RECORDING_ORDER))
    .limit(1)
    .correlate(Call)
    .scalar_subquery()
)
_QUERY = (
    select(*_COLUMNS)
    .select_from(Call)
    .outerjoin(Recording, and_(Recording.call_id == Call.id, Recording.id == _LATEST_RECORDING))
    .outerjoin(Organization, Organization.id == Call.organization_id)
    .outerjoin(CallRedaction, CallRedaction.call_id == Call.id)
    .where(Call.id == bindparam("call_id"), Call.organization_id == bindparam("organization_id"))
)


class CallSnapshots:
    """Reads snapshots of an organisation's calls; one per runtime."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._reader: _SQLiteReader | _PostgresReader = (
            _SQLiteReader(engine) if engine.dialect.name == "sqlite" else _PostgresReader(engine)
        )
        # Outside SQLAlchemy, so its instrumentation does not see this query: the span is made here.
        self._span = {"db.system": engine.dialect.name, "db.statement": self._reader.sql}

    async def visible(self, organization_id: str, call_id: str) -> CallSnapshot | None:
        """The call if it belongs to this organisation; None otherwise (or if there is no such call)."""
        with tracing.span("SELECT calls", self._span, SpanKind.CLIENT):
            row = await self._reader.first({"call_id": call_id, "organization_id": organization_id})
        return _snapshot(row) if row is not None else None

    async def close(self) -> None:
        await self._reader.close()


class _Compiled:
    """The query compiled once for one database, with its parameters in positional order."""

    def __init__(self, engine: AsyncEngine) -> None:
        compiled = _QUERY.compile(dialect=engine.dialect)
        self.sql = compiled.string
        self._order = tuple(compiled.positiontup or ())
        # The subquery's LIMIT value; the two named parameters are given on every read.
        self._defaults = compiled.construct_params({"call_id": "", "organization_id": ""})

    def args(self, params: dict[str, Any]) -> list[Any]:
        values = {**self._defaults, **params}
        return [values[name] for name in self._order]


class _SQLiteReader:
    """The query on the stdlib driver, on the event loop; values decoded by the columns' own types."""

    def __init__(self, engine: AsyncEngine) -> None:
        database = engine.url.database
        if not database or database == ":memory:":
            raise ValueError("an in-memory SQLite database cannot be shared between connections; use a file")
        self._path = database
        self._query = _Compiled(engine)
        dialect = engine.dialect
        self._decoders = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in _COLUMNS
        )
        self._connection: sqlite3.Connection | None = None

    @property
    def sql(self) -> str:
        return self._query.sql

    async def first(self, params: dict[str, Any]) -> list[Any] | None:
        rows = self._connect().execute(self._query.sql, self._query.args(params)).fetchall()
        if not rows:
            return None
        return [
            value if decode is None else decode(value)
            for value, decode in zip(rows[0], self._decoders, strict=True)
        ]

    async def close(self) -> None:
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


class _PostgresReader:
    """The query as an asyncpg prepared statement, on a small pool of its own (created on first use,
    inside the event loop). SQLAlchemy's pool pings each connection on checkout, a round trip that cost
    more than the read itself. asyncpg returns aware datetimes and floats as the ORM does; JSONB is
    decoded with the stdlib, as SQLAlchemy decodes it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._query = _Compiled(engine)
        self._pool: asyncpg.Pool | None = None
        self._creating = asyncio.Lock()

    @property
    def sql(self) -> str:
        return self._query.sql

    async def first(self, params: dict[str, Any]) -> Sequence[Any] | None:
        pool = self._pool or await self._create()
        row: Sequence[Any] | None = await pool.fetchrow(self._query.sql, *self._query.args(params))
        return row

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def _create(self) -> asyncpg.Pool:
        async with self._creating:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(self._dsn, min_size=1, max_size=10, init=_json_codec)
            return self._pool


async def _json_codec(connection: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await connection.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


_SPLITS = (
    len(_CALL_COLUMNS),
    len(_CALL_COLUMNS) + len(_RECORDING_COLUMNS),
    len(_CALL_COLUMNS) + len(_RECORDING_COLUMNS) + 1,
)


def _snapshot(row: Sequence[Any]) -> CallSnapshot:
    calls, recordings, policy = _SPLITS
    recording = RecordingRef(*row[calls:recordings]) if row[calls] is not None else None
    redaction = RedactionRef(*row[policy:]) if row[policy] is not None else None
    return CallSnapshot(*row[:calls], recording, row[recordings], redaction)  # type: ignore[call-arg]
