"""Declarative base, engine and session factories, and the column types that behave the same on SQLite
and PostgreSQL."""

from __future__ import annotations

import contextlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import JSON, DateTime, MetaData, event, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from tether_relay import tracing
from tether_relay.files import private_dir, write_private

# Stable constraint names, so Alembic migrations are the same on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite forgets the zone on the way back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


# JSONB on PostgreSQL, JSON (text) on SQLite.
JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


# The moments we store: wide enough for any call, narrow enough that arithmetic on them (start plus a
# duration, a conversion to UTC) cannot leave datetime's years 1..9999.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def rowcount(result: Any) -> int:
    """Rows an UPDATE or DELETE changed (the conditional writes decide by it)."""
    return int(getattr(result, "rowcount", 0) or 0)


def in_storable_range(moment: datetime) -> bool:
    return EARLIEST <= moment < LATEST


# NUL, and any surrogate code point (in a str every one is lone: a valid pair is decoded to one character).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: Any) -> Any:
    """What a provider sent, made storable on both databases: PostgreSQL takes no NUL in text or JSONB,
    and no driver can encode a lone surrogate. Such characters become U+FFFD, through nested JSON too.
    Applied to every webhook's values once their signature verified (a client's own input is refused at
    the edge instead: api/types.py)."""
    if isinstance(value, str):
        if "\x00" in value or not value.isascii():
            value = _UNSTORABLE.sub("\ufffd", value)
        return value
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    return value


# unique_violation, serialization_failure, deadlock_detected: a concurrent request got there first.
_CONFLICT_SQLSTATES = frozenset({"23505", "40001", "40P01"})


def is_conflict(error: DBAPIError) -> bool:
    """Whether a database error means a concurrent transaction won (retrying would settle it), rather
    than a fault of ours."""
    if getattr(error.orig, "sqlstate", None) in _CONFLICT_SQLSTATES:
        return True
    message = str(error.orig)  # SQLite has no SQLSTATE
    return message.startswith("UNIQUE constraint failed") or "database is locked" in message


def async_database_url(url: str) -> str:
    """The URL with its async driver; operators paste what their PostgreSQL tooling prints."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+asyncpg://" + url[len(plain) :]
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


def prepare_sqlite_file(url: str) -> None:
    """Create a SQLite database's folder and empty file owner-only before SQLite opens it (its -wal and
    -shm files take the database file's mode); other URLs are left alone."""
    url = async_database_url(url)
    prefix = "sqlite+aiosqlite:///"
    if not url.startswith(prefix) or ":memory:" in url or "mode=memory" in url:
        return
    path = Path(url[len(prefix) :].split("?", 1)[0])
    private_dir(path.parent)
    with contextlib.suppress(FileExistsError):  # an empty file is an empty SQLite database
        write_private(path, b"", exclusive=True)


def _json_text(value: Any) -> str:
    # orjson: a 20,000-utterance transcript in about a millisecond, where json.dumps takes twenty. What
    # orjson refuses (integers beyond 64 bits) is written as before.
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value)


def _json_value(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # a number beyond a double's range, in a row written long ago
        return json.loads(text)


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    url = async_database_url(url)
    kwargs = {"json_serializer": _json_text, "json_deserializer": _json_value, **kwargs}
    if url.startswith("sqlite"):
        prepare_sqlite_file(url)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        # Connections are held only for short transactions (the read path never holds one across a
        # provider call), so a modest pool serves hundreds of concurrent requests.
        engine = create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **kwargs)
    if tracing.on():
        _trace_statements(engine)
    return engine


def _trace_statements(engine: AsyncEngine) -> None:
    """A span per statement: its SQL with placeholders, never the bound values. (OpenTelemetry's own
    SQLAlchemy instrumentation declines SQLAlchemy 2.1.)"""
    system = engine.dialect.name

    def started(conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
        name = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else system
        # Opened here and closed by one of the two events below: the statement runs in between.
        span = tracing.span(name, {"db.system": system, "db.statement": statement}, tracing.CLIENT)
        span.__enter__()
        context._tether_span = span

    def ended(_conn: Any, _cursor: Any, _statement: str, _params: Any, context: Any, _many: bool) -> None:
        if (span := getattr(context, "_tether_span", None)) is not None:
            span.__exit__(None, None, None)

    def failed(exception_context: Any) -> None:
        context = exception_context.execution_context
        if (span := getattr(context, "_tether_span", None)) is not None:
            error = exception_context.original_exception
            span.__exit__(type(error), error, error.__traceback__)

    event.listen(engine.sync_engine, "before_cursor_execute", started)
    event.listen(engine.sync_engine, "after_cursor_execute", ended)
    event.listen(engine.sync_engine, "handle_error", failed)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers proceed during a write; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


async def answers(engine: AsyncEngine) -> bool:
    """Whether the database answers a query now (readiness)."""
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means not ready; the cause is not the caller's business
        return False
    return True


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
