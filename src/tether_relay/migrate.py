"""Bring a database to the newest schema with Alembic; used by the CLI, `serve` and the tests."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

from tether_relay.db import async_database_url, prepare_sqlite_file

MIGRATIONS = Path(__file__).parent / "migrations"


# Made by our migrations but described by no model: pgqueuer's tables (PostgreSQL's job queue, its own
# DDL), and each database's own index of search_documents (its tsvector column and GIN index on
# PostgreSQL, its FTS5 table and that table's shadow tables on SQLite).
_UNMODELLED = {
    "table": ("pgqueuer", "search_documents_fts"),
    "column": ("search_vector",),
    "index": ("ix_search_documents_vector",),
}


def ours(name: str | None, type_: str, _parents: object) -> bool:
    """Alembic's `include_name`: leaves out what no model describes (above)."""
    return name is None or not name.startswith(_UNMODELLED.get(type_, ()))


def alembic_config(database_url: str) -> Config:
    database_url = async_database_url(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url)
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    prepare_sqlite_file(database_url)
    command.upgrade(alembic_config(database_url), revision)


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    # Alembic's env.py runs its own event loop; keep it off the caller's.
    await asyncio.to_thread(upgrade, database_url, revision)
