"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from tests.conftest import POSTGRES_ADMIN_URL, postgres_admin
from tether_relay.db import Base, create_engine
from tether_relay.migrate import alembic_config, ours, upgrade
from tether_relay.search.terms import search_scope


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    def diff(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": ours})
        return list(compare_metadata(context, Base.metadata))

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(diff) == []
    finally:
        await engine.dispose()


def test_replicas_migrating_a_fresh_postgres_at_once_do_not_race(tmp_path: Path) -> None:
    name = f"tether_race_{uuid.uuid4().hex[:10]}"
    postgres_admin(f'CREATE DATABASE "{name}"')
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")} | {"TETHER_DATABASE_URL": url}
    try:
        # Separate processes, as replicas are (Alembic's context is global within one process).
        replicas = [
            subprocess.Popen(
                [sys.executable, "-m", "tether_relay.cli", "migrate"],
                env=env,
                cwd=tmp_path,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for _ in range(3)
        ]
        outputs = [replica.communicate(timeout=60)[0].decode() for replica in replicas]
        assert [replica.returncode for replica in replicas] == [0, 0, 0], outputs
        assert (
            asyncio.run(_version(url)) == ScriptDirectory.from_config(alembic_config(url)).get_current_head()
        )
    finally:
        postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _version(url: str) -> str:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            version: str = (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar_one()
            return version
    finally:
        await engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_transcripts_from_before_search_are_indexed_by_its_migration(tmp_path: Path, kind: str) -> None:
    name = f"tether_backfill_{uuid.uuid4().hex[:10]}"
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    else:
        postgres_admin(f'CREATE DATABASE "{name}"')
        url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url, "df093667286e")  # the revision before search
        said = '[{"role": "user", "message": "Please cancel my subscription.", "timestamp": 1.0}]'
        asyncio.run(
            _run(
                url,
                "INSERT INTO organizations (id, created_at) VALUES ('org-old', CURRENT_TIMESTAMP)",
                "INSERT INTO calls (call_id, organization_id, provider, provider_call_id, status,"  # noqa: S608
                " transcription_data, created_at, updated_at, sort_time, recording_deleted_at) VALUES"
                f" ('call-kept', 'org-old', 'external', 'x1', 'completed', '{said}', CURRENT_TIMESTAMP,"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, NULL),"
                f" ('call-deleted', 'org-old', 'external', 'x2', 'completed', '{said}', CURRENT_TIMESTAMP,"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
            )
        )

        upgrade(url)

        found = asyncio.run(_run(url, "SELECT call_id, terms FROM search_documents"))
        assert found == [("call-kept", f"{search_scope('org-old', False)} pleas cancel my subscript")]
    finally:
        if kind == "postgresql":
            postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _run(url: str, *statements: str) -> list[Any]:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            result = None
            for statement in statements:
                result = await connection.execute(text(statement))
            return [tuple(row) for row in result] if result is not None and result.returns_rows else []
    finally:
        await engine.dispose()
