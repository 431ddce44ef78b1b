"""The embedded default's worker (SQLite): runs `local_jobs` in the service process. A job is claimed by
setting `locked_until` in one statement, renewed while it runs, deleted when it succeeds, and put back with
a later `run_after` when it fails; a process that died mid-job lets its lease lapse, so the job runs again
after a restart."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tether_relay import metrics
from tether_relay.db import utcnow
from tether_relay.jobs.handlers import Handlers, JobPolicy, Permanent
from tether_relay.jobs.repository import Claimed, JobRepository

log = logging.getLogger("tether_relay.jobs")


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

    async def _claim(self) -> Claimed | None:
        async with self._sessions.begin() as session:
            return await JobRepository(session).claim(utcnow(), self._lease)

    async def _run(self, job: Claimed) -> None:
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
            await JobRepository(session).done(job.id)
        metrics.JOB_SECONDS.labels(job.name, "done").observe(time.perf_counter() - started)

    async def _renew(self, job_id: int) -> None:
        while True:
            await asyncio.sleep(self._lease.total_seconds() / 3)
            async with self._sessions.begin() as session:
                await JobRepository(session).hold(job_id, utcnow() + self._lease)

    async def _failed(self, job: Claimed, error: Exception) -> None:
        final = isinstance(error, Permanent) or job.attempts >= self._policy.max_attempts
        reason = _reason(error)
        log.warning(
            "job failed", extra={"job": job.name, "attempts": job.attempts, "final": final, "error": reason}
        )
        metrics.JOB_FAILURES.labels(job.name, "final" if final else "retried").inc()
        async with self._sessions.begin() as session:
            jobs = JobRepository(session)
            if final:
                await jobs.fail(job.id, reason)
            else:
                await jobs.retry(job.id, utcnow() + self._policy.delay(job.attempts), reason)


def _reason(error: Exception) -> str:
    """The error's type, and its message only where it is ours (Permanent): others may quote a URL."""
    if isinstance(error, Permanent):
        return f"Permanent: {error}"[:255]
    return type(error).__name__


async def queue_depth(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return await JobRepository(session).queued()
