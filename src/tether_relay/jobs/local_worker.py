"""The embedded default's worker (SQLite): runs `local_jobs` in the service process. A job is claimed by
setting `locked_until` in one statement, renewed while it runs, deleted when it succeeds, and put back with
a later `run_after` when it fails; a process that died mid-job lets its lease lapse, so the job runs again
after a restart."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tether_relay import metrics
from tether_relay.db import utcnow
from tether_relay.jobs.handlers import Handlers, JobPolicy, Permanent
from tether_relay.jobs.models import LocalJob

log = logging.getLogger("tether_relay.jobs")


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: int
    name: str
    payload: dict[str, Any]
    attempts: int


class LocalWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        handlers: Handlers,
        policy: JobPolicy,
        *,
        concurrency: int = 4,
        poll_seconds: float = 0.5,
        lease_seconds: float = 120.0,
    ) -> None:
        self._sessions = sessions
        self._handlers = handlers
        self._policy = policy
        self._concurrency = concurrency
        self._poll = poll_seconds
        self._lease = timedelta(seconds=lease_seconds)

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set; a job under way when it is set is finished first."""
        async with asyncio.TaskGroup() as group:
            for _ in range(self._concurrency):
                group.create_task(self._loop(stop))

    async def _loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                job = await self._claim()
            except Exception:  # the database may be busy or away: try again after the poll
                log.warning("job claim failed", exc_info=True)
                job = None
            if job is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._poll)
                continue
            await self._run(job)

    async def _claim(self) -> _Claimed | None:
        now = utcnow()
        due = (
            select(LocalJob.id)
            .where(LocalJob.status == "queued", LocalJob.run_after <= now)
            .where((LocalJob.locked_until.is_(None)) | (LocalJob.locked_until < now))
            .order_by(LocalJob.run_after, LocalJob.id)
            .limit(1)
            .scalar_subquery()
        )
        async with self._sessions.begin() as session:
            row = (
                await session.execute(
                    update(LocalJob)
                    .where(LocalJob.id == due)
                    .values(attempts=LocalJob.attempts + 1, locked_until=now + self._lease)
                    .returning(LocalJob.id, LocalJob.name, LocalJob.payload, LocalJob.attempts)
                )
            ).one_or_none()
        return None if row is None else _Claimed(row.id, row.name, row.payload, row.attempts)

    async def _run(self, job: _Claimed) -> None:
        handler = self._handlers.get(job.name)
        started = time.perf_counter()
        renewing = asyncio.create_task(self._renew(job.id))
        try:
            if handler is None:
                raise Permanent(f"no handler for {job.name}")
            await handler(job.payload)
        except Exception as error:  # noqa: BLE001 - every failure is the job's: retried or held
            renewing.cancel()
            await self._failed(job, error)
            metrics.JOB_SECONDS.labels(job.name, "failed").observe(time.perf_counter() - started)
            return
        finally:
            renewing.cancel()  # cancelled too (a stop past its wait): the lease lapses, the job runs again
        async with self._sessions.begin() as session:
            await session.execute(delete(LocalJob).where(LocalJob.id == job.id))
        metrics.JOB_SECONDS.labels(job.name, "done").observe(time.perf_counter() - started)

    async def _renew(self, job_id: int) -> None:
        while True:
            await asyncio.sleep(self._lease.total_seconds() / 3)
            async with self._sessions.begin() as session:
                await session.execute(
                    update(LocalJob).where(LocalJob.id == job_id).values(locked_until=utcnow() + self._lease)
                )

    async def _failed(self, job: _Claimed, error: Exception) -> None:
        final = isinstance(error, Permanent) or job.attempts >= self._policy.max_attempts
        reason = _reason(error)
        log.warning(
            "job failed", extra={"job": job.name, "attempts": job.attempts, "final": final, "error": reason}
        )
        metrics.JOB_FAILURES.labels(job.name, "final" if final else "retried").inc()
        values: dict[str, Any] = {"locked_until": None, "last_error": reason}
        if final:
            values["status"] = "failed"
        else:
            values["run_after"] = utcnow() + self._policy.delay(job.attempts)
        async with self._sessions.begin() as session:
            await session.execute(update(LocalJob).where(LocalJob.id == job.id).values(**values))


def _reason(error: Exception) -> str:
    """The error's type, and its message only where it is ours (Permanent): others may quote a URL."""
    if isinstance(error, Permanent):
        return f"Permanent: {error}"[:255]
    return type(error).__name__


async def queue_depth(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(LocalJob).where(LocalJob.status == "queued")
        )
    return int(count or 0)
