"""Bring a database to the newest schema with Alembic; used by the CLI, `serve` and the tests."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

from tether_relay.db import async_database_url, prepare_sqlite_file

MIGRATIONS = Path(__file__).parent / "migrations"


def ours(name: str | None, type_: str, _parents: object) -> bool:
    """Alembic's `include_name`: pgqueuer's tables (PostgreSQL's job queue) are its own DDL, installed
    and upgraded by our migrations but described by no model of ours."""
    return not (type_ == "table" and name is not None and name.startswith("pgqueuer"))


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
