"""Run jobs until told to stop, on whichever queue the database has (PostgreSQL: pgqueuer; SQLite: ours),
enqueue the scheduled ones when their period comes, and keep the queue-depth gauge current."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tether_relay import metrics
from tether_relay.jobs import local_worker, pg_worker
from tether_relay.jobs.handlers import Handlers, JobPolicy
from tether_relay.jobs.schedules import Schedule, run_schedules

log = logging.getLogger("tether_relay.jobs")
DEPTH_EVERY_SECONDS = 10.0


async def run_jobs(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    handlers: Handlers,
    policy: JobPolicy,
    stop: asyncio.Event,
    *,
    concurrency: int = 4,
    schedules: list[Schedule] | None = None,
) -> None:
    if engine.dialect.name == "postgresql":
        dsn = postgres_dsn(engine)
        work = pg_worker.run_pg_worker(dsn, handlers, policy, stop, concurrency=concurrency)

        async def depth() -> int:
            return await pg_worker.queue_depth(dsn)
    else:
        work = local_worker.LocalWorker(
            sessions,
            handlers,
            policy,
            concurrency=concurrency,
            lease_seconds=policy.heartbeat_timeout_seconds,
        ).run(stop)

        async def depth() -> int:
            return await local_worker.queue_depth(sessions)

    counting = asyncio.create_task(_count(depth, stop))
    scheduling = asyncio.create_task(run_schedules(sessions, schedules or [], stop))
    try:
        await work
    finally:
        counting.cancel()
        scheduling.cancel()
        # Waited for, not left to the loop: cancelled later, after the caller has closed the engine, their
        # rollback would wait for a connection that no longer answers (seen as a test run that hung).
        await asyncio.gather(counting, scheduling, return_exceptions=True)


def postgres_dsn(engine: AsyncEngine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


async def _count(depth: Callable[[], Awaitable[int]], stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            metrics.JOB_QUEUE_DEPTH.set(await depth())
        except Exception:  # a gauge is not worth a failure; the next count may work
            log.warning("queue depth not counted", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), DEPTH_EVERY_SECONDS)
