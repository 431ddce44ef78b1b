"""Initial schema: organisations, provider credentials, calls and recordings.

Revision ID: 9e41aa90f802
Revises:
Create Date: 2026-11-25 15:07:50.549730
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tether_relay.db

revision = "9e41aa90f802"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "organizations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("created_at", tether_relay.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
    )
    op.create_table(
        "calls",
        sa.Column("call_id", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("provider_call_id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("contact_id", sa.String(length=64), nullable=True),
        sa.Column("conversation_id", sa.String(length=64), nullable=True),
        sa.Column("direction", sa.String(length=8), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("from_number", sa.String(length=32), nullable=True),
        sa.Column("to_number", sa.String(length=32), nullable=True),
        sa.Column("provider_phone_number", sa.String(length=32), nullable=True),
        sa.Column("start_time", tether_relay.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answer_time", tether_relay.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("end_time", tether_relay.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("agent_name", sa.String(length=200), nullable=True),
        sa.Column(
            "provider_metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("transcription_text", sa.Text(), nullable=True),
        sa.Column(
            "transcription_data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("transcription_source", sa.String(length=32), nullable=True),
        sa.Column("transcription_fetched_at", tether_relay.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", tether_relay.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tether_relay.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_calls_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_calls")),
        sa.UniqueConstraint(
            "provider",
            "provider_call_id",
            "organization_id",
            name=op.f("uq_calls_provider_provider_call_id_organization_id"),
        ),
    )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calls_organization_id"), ["organization_id"], unique=False)

    op.create_table(
        "provider_credentials",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("encrypted", sa.Text(), nullable=False),
        sa.Column("updated_at", tether_relay.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_provider_credentials_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_credentials")),
        sa.UniqueConstraint(
            "organization_id", "provider", name=op.f("uq_provider_credentials_organization_id_provider")
        ),
    )
    op.create_table(
        "recordings",
        sa.Column("recording_id", sa.String(length=64), nullable=False),
        sa.Column("call_id", sa.String(length=32), nullable=False),
        sa.Column("storage_bucket", sa.String(length=16), nullable=True),
        sa.Column("storage_key", sa.String(length=1024), nullable=True),
        sa.Column("provider_recording_id", sa.String(length=64), nullable=True),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("channels", sa.Integer(), nullable=True),
        sa.Column("created_at", tether_relay.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.call_id"], name=op.f("fk_recordings_call_id_calls"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("recording_id", name=op.f("pk_recordings")),
    )
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.create_index("ix_recordings_call_id_created_at", ["call_id", "created_at"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.drop_index("ix_recordings_call_id_created_at")

    op.drop_table("recordings")
    op.drop_table("provider_credentials")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calls_organization_id"))

    op.drop_table("calls")
    op.drop_table("organizations")
