"""Scheduled jobs: each runs once per period across every replica and worker. Every worker looks every few
seconds; the first to record a period (`schedule_runs`, primary key name + period) enqueues its job in the
same transaction, the others find the row and do nothing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tether_relay.db import utcnow
from tether_relay.jobs.repository import Job, JobRepository

log = logging.getLogger("tether_relay.jobs")
LOOK_EVERY_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Schedule:
    name: str  # the job's handler
    every_seconds: int  # 0: not scheduled

    def period_start(self, now: datetime) -> datetime:
        start = int(now.timestamp()) // self.every_seconds * self.every_seconds
        return datetime.fromtimestamp(start, UTC)


async def enqueue_due(
    sessions: async_sessionmaker[AsyncSession], schedules: list[Schedule], now: datetime | None = None
) -> list[str]:
    """Enqueue the job of each schedule whose current period nobody has claimed; the names enqueued."""
    now = now or utcnow()
    enqueued = []
    for schedule in schedules:
        if schedule.every_seconds <= 0:
            continue
        period = schedule.period_start(now)
        async with sessions.begin() as session:
            jobs = JobRepository(session)
            if await jobs.claim_period(schedule.name, period, now):
                await jobs.enqueue(Job(schedule.name, {"period": period.isoformat()}))
                enqueued.append(schedule.name)
    return enqueued


async def run_schedules(
    sessions: async_sessionmaker[AsyncSession],
    schedules: list[Schedule],
    stop: asyncio.Event,
    look_every_seconds: float = LOOK_EVERY_SECONDS,
) -> None:
    while not stop.is_set():
        try:
            await enqueue_due(sessions, schedules)
        except Exception:  # the database may be busy or away: look again later
            log.warning("scheduled jobs not enqueued", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), look_every_seconds)
