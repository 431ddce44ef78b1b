"""redaction: each organisation's policy, and each call's redacted copy (status, copy, transcript, spans)

Revision ID: df093667286e
Revises: 57b1828f5914
Create Date: 2026-12-04 03:53:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tether_relay.db

revision = "df093667286e"
down_revision = "57b1828f5914"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_redactions",
        sa.Column("call_id", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "policy",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("policy_key", sa.String(length=32), nullable=False),
        sa.Column("recording_id", sa.String(length=64), nullable=True),
        sa.Column("storage_bucket", sa.String(length=16), nullable=True),
        sa.Column("storage_key", sa.String(length=1024), nullable=True),
        sa.Column("content_type", sa.String(length=64), nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("transcription_text", sa.Text(), nullable=True),
        sa.Column(
            "transcription_data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column(
            "spans",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("requested_at", tether_relay.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tether_relay.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.call_id"], name=op.f("fk_call_redactions_call_id_calls"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_call_redactions")),
    )
    with op.batch_alter_table("call_redactions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_call_redactions_organization_id"), ["organization_id"], unique=False
        )

    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "redaction_policy",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("redaction_policy")

    with op.batch_alter_table("call_redactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_redactions_organization_id"))

    op.drop_table("call_redactions")
