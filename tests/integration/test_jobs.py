"""The job mechanism on both databases: a job runs once it is committed and never if its transaction rolled
back, a failure is retried with backoff and held after the last attempt, a pending duplicate is one job,
and a job whose worker died runs again."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.jobs import until, working
from tether_relay.db import create_engine, session_factory, utcnow
from tether_relay.jobs.handlers import JobPolicy, Permanent
from tether_relay.jobs.models import LocalJob
from tether_relay.jobs.queue import Job, enqueue

FAST = JobPolicy(max_attempts=3, first_delay_seconds=0.0, heartbeat_timeout_seconds=2.0)


class Boom(Exception):
    pass


Database = tuple[AsyncEngine, async_sessionmaker[AsyncSession]]


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    engine = create_engine(database_url)
    try:
        yield engine, session_factory(engine)
    finally:
        await engine.dispose()


async def test_a_job_runs_only_if_its_transaction_committed(database: Database) -> None:
    engine, sessions = database
    ran: list[str] = []

    async def record(payload: dict[str, str]) -> None:
        ran.append(payload["n"])

    async def rolled_back() -> None:
        async with sessions.begin() as session:
            await enqueue(session, Job("record", {"n": "rolled back"}))
            raise Boom()

    with pytest.raises(Boom):
        await rolled_back()
    async with sessions.begin() as session:
        await enqueue(session, Job("record", {"n": "committed"}))
    async with working(engine, sessions, {"record": record}, FAST):
        await until(lambda: ran)
        await asyncio.sleep(1.0)  # time enough for a job that should not exist to run
    assert ran == ["committed"]


async def test_a_failed_job_is_retried_until_it_succeeds(database: Database) -> None:
    engine, sessions = database
    runs: Counter[str] = Counter()

    async def flaky(payload: dict[str, str]) -> None:
        runs[payload["n"]] += 1
        if runs[payload["n"]] < 3:
            raise Boom("provider down")

    async with sessions.begin() as session:
        await enqueue(session, Job("flaky", {"n": "1"}))
    async with working(engine, sessions, {"flaky": flaky}, FAST):
        await until(lambda: runs["1"] >= 3)
        await asyncio.sleep(1.0)
    assert runs["1"] == 3  # two failures, then done: never run again


@pytest.mark.parametrize("error", [Boom("always"), Permanent("the call is gone")])
async def test_a_job_that_keeps_failing_stops_after_its_last_attempt(
    database: Database,
    error: Exception,
) -> None:
    engine, sessions = database
    runs: list[int] = []

    async def failing(_payload: dict[str, str]) -> None:
        runs.append(1)
        raise error

    async with sessions.begin() as session:
        await enqueue(session, Job("failing", {}))
    expected = 1 if isinstance(error, Permanent) else FAST.max_attempts
    async with working(engine, sessions, {"failing": failing}, FAST):
        await until(lambda: len(runs) >= expected)
        await asyncio.sleep(1.5)
    assert len(runs) == expected


async def test_a_pending_duplicate_is_one_job(database: Database) -> None:
    engine, sessions = database
    ran: list[str] = []

    async def record(payload: dict[str, str]) -> None:
        ran.append(payload["n"])

    for n in ("first", "second"):
        async with sessions.begin() as session:
            await enqueue(session, Job("record", {"n": n}, dedupe_key="same"))
    async with working(engine, sessions, {"record": record}, FAST):
        await until(lambda: ran)
        await asyncio.sleep(1.0)
    assert ran == ["first"]
    async with sessions.begin() as session:  # once it ran, the same key is a new job
        await enqueue(session, Job("record", {"n": "third"}, dedupe_key="same"))
    async with working(engine, sessions, {"record": record}, FAST):
        await until(lambda: len(ran) == 2)
    assert ran == ["first", "third"]


async def test_a_job_whose_worker_died_runs_again(database: Database) -> None:
    """A worker that stops mid-job (here: abandoned, as a SIGKILL leaves it) holds it only until its lease
    (SQLite) or heartbeat (PostgreSQL) lapses."""
    engine, sessions = database
    started, finished = asyncio.Event(), []

    async def slow(payload: dict[str, str]) -> None:
        started.set()
        await asyncio.sleep(3600)

    async def quick(payload: dict[str, str]) -> None:
        finished.append(payload["n"])

    async with sessions.begin() as session:
        await enqueue(session, Job("work", {"n": "1"}))
    if engine.dialect.name == "sqlite":
        stop = asyncio.Event()
        from tether_relay.jobs.local_worker import LocalWorker

        dead = asyncio.create_task(LocalWorker(sessions, {"work": slow}, FAST, lease_seconds=1.0).run(stop))
        await asyncio.wait_for(started.wait(), 10)
        dead.cancel()  # gone without a word: the row stays claimed
        async with sessions() as session:
            row = (await session.scalars(select(LocalJob))).one()
        assert row.locked_until is not None
        assert row.locked_until > utcnow()
    else:
        from tether_relay.jobs.pg_worker import run_pg_worker
        from tether_relay.jobs.worker import postgres_dsn

        stop = asyncio.Event()
        dead = asyncio.create_task(run_pg_worker(postgres_dsn(engine), {"work": slow}, FAST, stop))
        await asyncio.wait_for(started.wait(), 10)
        dead.cancel()
    async with working(engine, sessions, {"work": quick}, FAST):
        await until(lambda: finished, seconds=20)
    assert finished == ["1"]


async def test_a_job_due_later_waits(database: Database) -> None:
    engine, sessions = database
    ran: list[str] = []

    async def record(payload: dict[str, str]) -> None:
        ran.append(payload["n"])

    async with sessions.begin() as session:
        await enqueue(session, Job("record", {"n": "later"}, delay=timedelta(hours=1)))
    async with working(engine, sessions, {"record": record}, FAST):
        await asyncio.sleep(1.0)
    assert ran == []
    if engine.dialect.name == "sqlite":  # made due: it runs
        async with sessions.begin() as session:
            await session.execute(update(LocalJob).values(run_after=utcnow()))
        async with working(engine, sessions, {"record": record}, FAST):
            await until(lambda: ran)
