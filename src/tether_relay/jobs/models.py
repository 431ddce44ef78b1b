from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from tether_relay.db import Base, JSONType, UTCDateTime, utcnow


class LocalJob(Base):
    """A job of the embedded default (SQLite). On PostgreSQL pgqueuer's tables hold the jobs and this
    table stays empty. A row is deleted when its job succeeds; `failed` rows are kept for the operator."""

    __tablename__ = "local_jobs"
    __table_args__ = (
        Index("ix_local_jobs_due", "status", "run_after", "id"),
        # One pending job per dedupe key, as pgqueuer's own unique index does.
        Index(
            "ix_local_jobs_dedupe_key",
            "dedupe_key",
            unique=True,
            sqlite_where=text("status = 'queued'"),
            postgresql_where=text("status = 'queued'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    dedupe_key: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Held by a worker until then (renewed while it runs): a worker that died lets it go by itself.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ScheduleRun(Base):
    """Each period of each scheduled job, claimed once: the replica whose insert wins enqueues the job in
    the same transaction, so a period's job is enqueued exactly once however many replicas look."""

    __tablename__ = "schedule_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
