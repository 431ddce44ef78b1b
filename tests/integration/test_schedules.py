"""Scheduled jobs run once per period however many replicas look, and the scheduled retention sweep
deletes what has expired (the CLI's `retention sweep`, as a job)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import auth
from tests.factories import make_call
from tests.jobs import until
from tether_relay.calls.models import Recording
from tether_relay.db import create_engine, session_factory
from tether_relay.jobs.models import LocalJob
from tether_relay.jobs.schedules import Schedule, enqueue_due
from tether_relay.organizations.repository import OrganizationRepository
from tether_relay.runtime import Runtime

ORG = "org-schedules"


@pytest.fixture
async def replicas(database_url: str) -> AsyncIterator[list[AsyncEngine]]:
    """Three engines on one database: what three replicas' schedulers share."""
    engines = [create_engine(database_url) for _ in range(3)]
    try:
        yield engines
    finally:
        for engine in engines:
            await engine.dispose()


async def enqueued(engine: AsyncEngine, name: str) -> int:
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            query = text("SELECT count(*) FROM pgqueuer WHERE entrypoint = :name")
            return int((await connection.execute(query, {"name": name})).scalar_one())
        return int(
            (
                await connection.execute(
                    select(func.count()).select_from(LocalJob).where(LocalJob.name == name)
                )
            ).scalar_one()
        )


async def test_each_period_is_enqueued_once_across_replicas(replicas: list[AsyncEngine]) -> None:
    schedules = [Schedule("sweep-a", 60), Schedule("sweep-b", 3600), Schedule("off", 0)]
    now = datetime(2026, 12, 3, 12, 0, 30, tzinfo=UTC)
    looks = [
        enqueue_due(session_factory(engine), schedules, now + timedelta(seconds=offset))
        for engine in replicas
        for offset in (0, 5, 10, 29)  # every look within the same minute
    ]
    await asyncio.gather(*looks)
    assert (await enqueued(replicas[0], "sweep-a"), await enqueued(replicas[0], "sweep-b")) == (1, 1)
    assert await enqueued(replicas[0], "off") == 0

    next_minute = now + timedelta(seconds=40)
    await asyncio.gather(*(enqueue_due(session_factory(e), schedules, next_minute) for e in replicas))
    assert (await enqueued(replicas[0], "sweep-a"), await enqueued(replicas[0], "sweep-b")) == (2, 1)


@pytest.mark.parametrize("settings_overrides", [{"jobs_in_process": True, "retention_sweep_seconds": 1}])
async def test_the_scheduled_retention_sweep_deletes_what_has_expired(
    client: httpx.AsyncClient, runtime: Runtime, settings_overrides: dict[str, Any]
) -> None:
    now = datetime.now(UTC)
    old = await make_call(runtime, ORG, start_time=now - timedelta(days=40))
    recent = await make_call(runtime, ORG, start_time=now - timedelta(days=5))
    async with runtime.sessions.begin() as session:
        await OrganizationRepository(session).set_retention(ORG, 30)

    async def recordings(call_id: str) -> int:
        async with runtime.sessions() as session:
            return int(
                await session.scalar(
                    select(func.count()).select_from(Recording).where(Recording.call_id == call_id)
                )
                or 0
            )

    await until(lambda: _gone(client, old.id), seconds=20)
    assert await recordings(old.id) == 0
    assert await recordings(recent.id) == 1


async def _gone(client: httpx.AsyncClient, call_id: str) -> bool:
    answer = await client.get(f"/api/calls/{call_id}/recording", headers=auth(ORG))
    return answer.status_code == 410 or answer.json().get("code") == "RECORDING_DELETED"
