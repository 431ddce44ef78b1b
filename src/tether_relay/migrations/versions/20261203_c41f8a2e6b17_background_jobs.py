"""background jobs: pgqueuer's schema on PostgreSQL, local_jobs for the embedded default, schedule_runs

pgqueuer's tables, types and triggers are its own DDL (the version in uv.lock); a newer pgqueuer that
changes them comes with a migration that runs its upgrade. `local_jobs` exists on both databases so the
models match the schema everywhere; on PostgreSQL it stays empty.

Revision ID: c41f8a2e6b17
Revises: b7d2e4f1a903
Create Date: 2026-12-03 17:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from pgqueuer.adapters.persistence.qb import QueryBuilderEnvironment
from sqlalchemy.dialects import postgresql
from sqlalchemy.util import await_only

import tether_relay.db

revision = "c41f8a2e6b17"
down_revision = "b7d2e4f1a903"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "local_jobs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("dedupe_key", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", tether_relay.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", tether_relay.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=255), nullable=True),
        sa.Column("created_at", tether_relay.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_local_jobs")),
    )
    op.create_index("ix_local_jobs_due", "local_jobs", ["status", "run_after", "id"])
    op.create_index(
        "ix_local_jobs_dedupe_key",
        "local_jobs",
        ["dedupe_key"],
        unique=True,
        sqlite_where=sa.text("status = 'queued'"),
        postgresql_where=sa.text("status = 'queued'"),
    )
    op.create_table(
        "schedule_runs",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("period_start", tether_relay.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", tether_relay.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", "period_start", name=op.f("pk_schedule_runs")),
    )
    if op.get_bind().dialect.name == "postgresql":
        _script(QueryBuilderEnvironment().build_install_query(create_schema=False))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _script(QueryBuilderEnvironment().build_uninstall_query())
    op.drop_table("schedule_runs")
    op.drop_index("ix_local_jobs_dedupe_key", table_name="local_jobs")
    op.drop_index("ix_local_jobs_due", table_name="local_jobs")
    op.drop_table("local_jobs")


def _script(sql: str) -> None:
    """Several statements (functions with bodies among them), in the migration's transaction: asyncpg's
    simple query protocol takes them as one script, where SQLAlchemy's prepared statements take one."""
    adapted = op.get_bind().connection.dbapi_connection
    assert adapted is not None
    await_only(adapted.driver_connection.execute(sql))
