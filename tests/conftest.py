"""Shared fixtures: settings, a fresh database per test (SQLite and PostgreSQL), the app and a client.

Database tests take the `database_url` fixture and so run twice, once per database. The schema comes
from the Alembic migrations (migrated once per session), never from `create_all`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from tether_relay.app import create_app
from tether_relay.auth.tokens import mint_token
from tether_relay.db import Base
from tether_relay.migrate import upgrade
from tether_relay.models import __all__ as _every_model  # noqa: F401 - registers every table
from tether_relay.runtime import Runtime
from tether_relay.settings import Settings

if TYPE_CHECKING:  # the fakes are plugins (below); importing them here would defeat assertion rewriting
    from tests.fakes.elevenlabs import ElevenLabsFake
    from tests.fakes.s3 import S3Server
    from tests.fakes.twilio import TwilioFake

pytest_plugins = [
    "tests.fakes.s3",
    "tests.fakes.twilio",
    "tests.fakes.elevenlabs",
    "tests.fakes.vendor",
    "tests.fakes.witness",
    "tests.fakes.receiver",
]

JWT_SECRET = "test-jwt-9fQ2rLx7WmA4kT0pZc8VbN3hYs6dJe1u"
SECRET_KEY = "test-key-Hn5Gq8Rw2Lz0Tb7Xk4Pm9Cv3Fj6Ds1Ya"
POSTGRES_ADMIN_URL = os.environ.get(
    "TETHER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
# Ours, and pgqueuer's (PostgreSQL's job queue) that no model of ours describes.
TABLES = ", ".join([table.name for table in Base.metadata.sorted_tables] + ["pgqueuer", "pgqueuer_log"])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`make test` stays quick: the suites marked slow run under CI=true (CI runs everything) or
    TETHER_TEST_ALL=1 (`make test-all`), and are said to be left out otherwise."""
    if os.environ.get("CI") == "true" or os.environ.get("TETHER_TEST_ALL") == "1":
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"{len(slow)} slow tests left out (make test-all, or CI=true, runs them)")


def postgres_admin(sql: str, url: str = POSTGRES_ADMIN_URL) -> None:
    async def run() -> None:
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(run())


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "tether.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test session, migrated once."""
    name = f"tether_test_{uuid.uuid4().hex[:12]}"
    postgres_admin(f'CREATE DATABASE "{name}"')
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated, empty database; the test runs once on each kind."""
    if request.param == "sqlite":
        path = tmp_path / "tether.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    postgres_admin(f"TRUNCATE {TABLES} CASCADE", url)
    return url


def make_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "jwt_secret": JWT_SECRET,
        "secret_key": SECRET_KEY,
        "public_base_url": "http://testserver",
        # Never the real provider hosts: unless a test says otherwise, nothing listens here.
        "twilio_api_base_url": "http://127.0.0.1:9",
        "twilio_intelligence_base_url": "http://127.0.0.1:9",
        "elevenlabs_api_base_url": "http://127.0.0.1:9",
        "provider_timeout_seconds": 2.0,
        "provider_retry_backoff_seconds": 0.01,
        # Jobs are enqueued as in production but run only where a test starts a worker (tests/jobs.py),
        # so a test's provider fakes see only the requests that test made.
        "jobs_in_process": False,
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module (or parametrize) to change the app's settings."""
    return {}


@pytest.fixture
def settings(
    database_url: str,
    tmp_path: Path,
    twilio: TwilioFake,
    elevenlabs: ElevenLabsFake,
    settings_overrides: dict[str, Any],
) -> Settings:
    return make_settings(
        database_url,
        tmp_path / "data",
        twilio_api_base_url=twilio.base_url,
        twilio_intelligence_base_url=twilio.base_url,
        elevenlabs_api_base_url=elevenlabs.base_url,
        **settings_overrides,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def runtime(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def token_for(organization_id: str, role: str | None = "ADMIN", user_id: str = "user-1", **kw: Any) -> str:
    return mint_token(JWT_SECRET, user_id=user_id, organization_id=organization_id, role=role, **kw)


def auth(organization_id: str, role: str | None = "ADMIN") -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(organization_id, role)}"}


def superadmin(organization_id: str) -> dict[str, str]:
    return auth(organization_id, "SUPERADMIN")


@pytest.fixture
async def s3_app(database_url: str, tmp_path: Path, s3_server: S3Server) -> AsyncIterator[FastAPI]:
    """The app with both buckets on the real S3-compatible server."""
    from tests.fakes.s3 import ACCESS_KEY_ID, SECRET_ACCESS_KEY

    settings = make_settings(
        database_url,
        tmp_path,
        r2_endpoint_url=s3_server.endpoint_url,
        r2_bucket=s3_server.new_bucket(),
        r2_access_key_id=ACCESS_KEY_ID,
        r2_secret_access_key=SECRET_ACCESS_KEY,
        sinch_s3_endpoint_url=s3_server.endpoint_url,
        sinch_s3_bucket=s3_server.new_bucket(),
        sinch_s3_access_key_id=ACCESS_KEY_ID,
        sinch_s3_secret_access_key=SECRET_ACCESS_KEY,
        sinch_s3_region="eu-central-1",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app
