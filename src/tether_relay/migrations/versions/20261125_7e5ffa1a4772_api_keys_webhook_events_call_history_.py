"""API keys and their rate limit, webhook events, ElevenLabs agent routing, call history order

Revision ID: 7e5ffa1a4772
Revises: 1c7ceecfc70f
Create Date: 2026-11-25 15:44:47.948140
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tether_relay.db

revision = "7e5ffa1a4772"
down_revision = "1c7ceecfc70f"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("last_four", sa.String(length=4), nullable=False),
        sa.Column("created_at", tether_relay.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", tether_relay.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", tether_relay.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_api_keys_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(
            "uq_api_keys_live",
            ["organization_id", "user_id"],
            unique=True,
            sqlite_where=sa.text("revoked_at IS NULL"),
            postgresql_where=sa.text("revoked_at IS NULL"),
        )

    op.create_table(
        "elevenlabs_agents",
        sa.Column("agent_id", sa.String(length=128), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("learnt_at", tether_relay.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_elevenlabs_agents_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_elevenlabs_agents")),
    )
    op.create_table(
        "webhook_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("event_key", sa.String(length=255), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("call_id", sa.String(length=32), nullable=True),
        sa.Column("received_at", tether_relay.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_webhook_events_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_events")),
        sa.UniqueConstraint("provider", "event_key", name=op.f("uq_webhook_events_provider_event_key")),
    )
    op.create_table(
        "rate_limit_hits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("at", tether_relay.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_rate_limit_hits_api_key_id_api_keys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_limit_hits")),
    )
    with op.batch_alter_table("rate_limit_hits", schema=None) as batch_op:
        batch_op.create_index("ix_rate_limit_hits_key_at", ["api_key_id", "at"], unique=False)

    # Add, backfill (start time, else creation time), then require: existing calls keep their order.
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sort_time", tether_relay.db.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE calls SET sort_time = COALESCE(start_time, created_at)")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.alter_column(
            "sort_time", existing_type=tether_relay.db.UTCDateTime(timezone=True), nullable=False
        )
        batch_op.create_index(
            "ix_calls_organization_id_sort_time", ["organization_id", "sort_time", "call_id"], unique=False
        )

    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reference_url", sa.String(length=1024), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.drop_column("reference_url")

    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index("ix_calls_organization_id_sort_time")
        batch_op.drop_column("sort_time")

    with op.batch_alter_table("rate_limit_hits", schema=None) as batch_op:
        batch_op.drop_index("ix_rate_limit_hits_key_at")

    op.drop_table("rate_limit_hits")
    op.drop_table("webhook_events")
    op.drop_table("elevenlabs_agents")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_api_keys_live",
            sqlite_where=sa.text("revoked_at IS NULL"),
            postgresql_where=sa.text("revoked_at IS NULL"),
        )

    op.drop_table("api_keys")
