"""Run the job workers inside a test: the same `run_jobs` as `serve` and `tether-relay worker`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tether_relay.db import utcnow
from tether_relay.jobs.handlers import Handlers, JobPolicy
from tether_relay.jobs.models import LocalJob
from tether_relay.jobs.worker import run_jobs


@asynccontextmanager
async def working(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    handlers: Handlers,
    policy: JobPolicy,
) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(run_jobs(engine, sessions, handlers, policy, stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


async def until(condition: Callable[[], object], seconds: float = 15.0) -> None:
    """Wait for `condition()` to be true (a sync or async predicate), or fail after `seconds`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def make_jobs_due(engine: AsyncEngine) -> None:
    """Move every job waiting for a later time to now: the tests' clock, not a shortcut in the code."""
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execute(
                text("UPDATE pgqueuer SET execute_after = now() WHERE status = 'queued'")
            )
        else:
            await connection.execute(update(LocalJob).values(run_after=utcnow()))
