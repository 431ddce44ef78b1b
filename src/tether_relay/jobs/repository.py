"""Every query of the job mechanism: enqueueing (pgqueuer's table on PostgreSQL, `local_jobs` on SQLite),
the SQLite worker's claims, leases and outcomes, and the claims of scheduled periods."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from pgqueuer.queries import Queries
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from tether_relay.db import utcnow
from tether_relay.jobs.models import LocalJob, ScheduleRun


@dataclass(frozen=True, slots=True)
class Job:
    """What to do (`name`, a handler's) and to what (`payload`: ids, never content or credentials).
    While a job with the same `dedupe_key` is pending, enqueueing another does nothing."""

    name: str
    payload: dict[str, str]
    dedupe_key: str | None = None
    delay: timedelta = timedelta()  # run no sooner than this after the transaction


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    name: str
    payload: dict[str, Any]
    attempts: int  # this run included


class JobRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def enqueue(self, job: Job) -> None:
        """In the session's transaction: committed with the caller's change, or not at all."""
        connection = await self._session.connection()
        if connection.dialect.name != "postgresql":
            statement = sqlite_insert(LocalJob).values(
                name=job.name,
                payload=job.payload,
                dedupe_key=job.dedupe_key,
                run_after=utcnow() + job.delay,
            )
            await self._session.execute(statement.on_conflict_do_nothing())
            return
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        if not raw.is_in_transaction():
            # SQLAlchemy opens asyncpg's transaction at its first statement; before one, a statement sent
            # to the raw connection would commit on its own, whatever the caller's transaction does.
            await connection.execute(select(1))
        if not raw.is_in_transaction():
            raise RuntimeError("a job is enqueued only inside its caller's transaction")
        await Queries.from_asyncpg_connection(raw).enqueue(
            job.name,
            orjson.dumps(job.payload),
            execute_after=job.delay,
            dedupe_key=job.dedupe_key,
            on_conflict="skip",  # a duplicate must not abort the caller's transaction
        )

    async def claim(self, now: datetime, lease: timedelta) -> Claimed | None:
        """SQLite: the next due job, held until `now + lease`, in one statement."""
        due = (
            select(LocalJob.id)
            .where(LocalJob.status == "queued", LocalJob.run_after <= now)
            .where((LocalJob.locked_until.is_(None)) | (LocalJob.locked_until < now))
            .order_by(LocalJob.run_after, LocalJob.id)
            .limit(1)
            .scalar_subquery()
        )
        row = (
            await self._session.execute(
                update(LocalJob)
                .where(LocalJob.id == due)
                .values(attempts=LocalJob.attempts + 1, locked_until=now + lease)
                .returning(LocalJob.id, LocalJob.name, LocalJob.payload, LocalJob.attempts)
            )
        ).one_or_none()
        return None if row is None else Claimed(row.id, row.name, row.payload, row.attempts)

    async def hold(self, job_id: int, until: datetime) -> None:
        await self._session.execute(update(LocalJob).where(LocalJob.id == job_id).values(locked_until=until))

    async def done(self, job_id: int) -> None:
        await self._session.execute(delete(LocalJob).where(LocalJob.id == job_id))

    async def retry(self, job_id: int, after: datetime, reason: str) -> None:
        await self._session.execute(
            update(LocalJob)
            .where(LocalJob.id == job_id)
            .values(locked_until=None, last_error=reason, run_after=after)
        )

    async def fail(self, job_id: int, reason: str) -> None:
        """Held as failed, for the operator: never run again."""
        await self._session.execute(
            update(LocalJob)
            .where(LocalJob.id == job_id)
            .values(locked_until=None, last_error=reason, status="failed")
        )

    async def queued(self) -> int:
        count = await self._session.scalar(
            select(func.count()).select_from(LocalJob).where(LocalJob.status == "queued")
        )
        return int(count or 0)

    async def claim_period(self, name: str, period_start: datetime, now: datetime) -> bool:
        """Whether this caller is the first to record the period (and so enqueues its job)."""
        dialect = (await self._session.connection()).dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        claimed = await self._session.scalar(
            insert(ScheduleRun)
            .values(name=name, period_start=period_start, created_at=now)
            .on_conflict_do_nothing()
            .returning(ScheduleRun.name)
        )
        return claimed is not None
