"""Enqueue a job in the caller's transaction, so a change and the work it calls for commit together or not
at all (the query is the repository's: pgqueuer's queue on PostgreSQL, on the very connection of the
transaction; `local_jobs` on SQLite)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tether_relay.jobs.repository import Job, JobRepository

__all__ = ["Job", "enqueue"]


async def enqueue(session: AsyncSession, job: Job) -> None:
    await JobRepository(session).enqueue(job)
