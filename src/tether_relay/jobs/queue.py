"""Enqueue a job in the caller's transaction, so a change and the work it calls for commit together or not
at all. PostgreSQL: pgqueuer's queue, on the very connection of the transaction; SQLite: `local_jobs`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import orjson
from pgqueuer.queries import Queries
from sqlalchemy import select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from tether_relay.db import utcnow
from tether_relay.jobs.models import LocalJob


@dataclass(frozen=True, slots=True)
class Job:
    """What to do (`name`, a handler's) and to what (`payload`: ids, never content or credentials).
    While a job with the same `dedupe_key` is pending, enqueueing another does nothing."""

    name: str
    payload: dict[str, str] = field(default_factory=dict)
    dedupe_key: str | None = None


async def enqueue(session: AsyncSession, job: Job, delay: timedelta | None = None) -> None:
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        if not raw.is_in_transaction():
            # SQLAlchemy opens asyncpg's transaction at its first statement; before one, a statement sent
            # to the raw connection would commit on its own, whatever the caller's transaction does.
            await connection.execute(select(1))
        if not raw.is_in_transaction():
            raise RuntimeError("a job is enqueued only inside its caller's transaction")
        queries = Queries.from_asyncpg_connection(raw)
        await queries.enqueue(
            job.name,
            orjson.dumps(job.payload),
            execute_after=delay,
            dedupe_key=job.dedupe_key,
            on_conflict="skip",  # a duplicate must not abort the caller's transaction
        )
        return
    statement = sqlite_insert(LocalJob).values(
        name=job.name,
        payload=job.payload,
        dedupe_key=job.dedupe_key,
        run_after=utcnow() + (delay or timedelta()),
    )
    await session.execute(statement.on_conflict_do_nothing())
