"""the latest recording of a call, read from the index alone

The recording read's one query (calls/snapshot.py) picks a call's latest recording by (created_at,
recording_id) descending; with only (call_id, created_at) indexed, SQLite sorted the tie-break in a
temporary B-tree on every read.

Revision ID: b7d2e4f1a903
Revises: 56de5501fe4a
Create Date: 2026-12-03 11:05:00
"""

from __future__ import annotations

from alembic import op

revision = "b7d2e4f1a903"
down_revision = "56de5501fe4a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_recordings_call_id_created_at_id", "recordings", ["call_id", "created_at", "recording_id"]
    )
    op.drop_index("ix_recordings_call_id_created_at", table_name="recordings")


def downgrade() -> None:
    op.create_index("ix_recordings_call_id_created_at", "recordings", ["call_id", "created_at"])
    op.drop_index("ix_recordings_call_id_created_at_id", table_name="recordings")
