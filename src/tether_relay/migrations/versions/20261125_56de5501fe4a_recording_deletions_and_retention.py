"""recording deletions and retention

Revision ID: 56de5501fe4a
Revises: 7e5ffa1a4772
Create Date: 2026-11-25 18:20:23.247917
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tether_relay.db

revision = "56de5501fe4a"
down_revision = "7e5ffa1a4772"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recording_deletions",
        sa.Column("call_id", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column(
            "recording_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("deleted_by", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("deleted_at", tether_relay.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stored_copy", sa.String(length=16), nullable=False),
        sa.Column("provider_copy", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.call_id"],
            name=op.f("fk_recording_deletions_call_id_calls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_recording_deletions")),
    )
    with op.batch_alter_table("recording_deletions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recording_deletions_organization_id"), ["organization_id"], unique=False
        )

    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("recording_deleted_at", tether_relay.db.UTCDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retention_days", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("retention_days")

    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("recording_deleted_at")

    with op.batch_alter_table("recording_deletions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recording_deletions_organization_id"))

    op.drop_table("recording_deletions")
