"""transcript lease and lookup keys

Revision ID: 1c7ceecfc70f
Revises: 9e41aa90f802
Create Date: 2026-11-25 15:16:07.635066
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tether_relay.db

revision = "1c7ceecfc70f"
down_revision = "9e41aa90f802"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("transcription_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("transcript_lease_owner", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("transcript_lease_until", tether_relay.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("transcript_retry_after", tether_relay.db.UTCDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("provider_credentials", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lookup_key", sa.String(length=128), nullable=True))
        batch_op.create_index(batch_op.f("ix_provider_credentials_lookup_key"), ["lookup_key"], unique=False)

    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("transcript_key", sa.String(length=1024), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.drop_column("transcript_key")

    with op.batch_alter_table("provider_credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provider_credentials_lookup_key"))
        batch_op.drop_column("lookup_key")

    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("transcript_retry_after")
        batch_op.drop_column("transcript_lease_until")
        batch_op.drop_column("transcript_lease_owner")
        batch_op.drop_column("transcription_status")
