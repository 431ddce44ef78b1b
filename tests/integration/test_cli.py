"""The operator commands `migrate` and `token`, through Typer's runner with real settings."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tether_relay.auth.tokens import verify_token
from tether_relay.cli import app
from tether_relay.keys import load_keys
from tether_relay.settings import Settings

SECRETS = {
    "TETHER_JWT_SECRET": "cli-jwt-4Kd9Wq2Zr7Lm0Xv5Bn8Tc3Hy6Pf1Gs",
    "TETHER_SECRET_KEY": "cli-key-7Ra2Me5Qk9Vz1Jw4Ub8Nd0Lx3Ct6Hp",
}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TETHER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TETHER_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    return tmp_path


def test_migrate_creates_the_schema(env: Path) -> None:
    result = CliRunner().invoke(app, ["migrate"])

    assert result.exit_code == 0, result.output
    with closing(sqlite3.connect(env / "cli.db")) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"organizations", "calls", "recordings", "provider_credentials", "alembic_version"} <= tables


def test_token_mints_a_verifiable_jwt(env: Path) -> None:
    result = CliRunner().invoke(app, ["token", "--org", "org-9", "--role", "SUPERADMIN", "--user", "ops"])

    assert result.exit_code == 0, result.output
    principal = verify_token(result.output.strip(), load_keys(Settings()).jwt_secret)
    assert (principal.organization_id, principal.role, principal.user_id) == ("org-9", "SUPERADMIN", "ops")
