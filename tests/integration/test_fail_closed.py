"""Fail closed on configuration (issue 11, class 9), on the real `tether-relay` command and the app:
development mode refuses any address but loopback, what it writes is owner-only, and no redirect is
built from the client's Host header."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from bench.service import environment

from tests.processes import service_process

ANY_IPV4 = "0.0.0.0"  # noqa: S104 - the address a forgotten setting listens on
CLI = [sys.executable, "-m", "tether_relay.cli"]


def development_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "TETHER_DATA_DIR": str(tmp_path / "var"),
        "TETHER_DATABASE_URL": f"sqlite:///{tmp_path}/var/tether.db",
        **extra,
    }


@pytest.mark.parametrize("host", [ANY_IPV4, "::", "192.168.1.10", "relay.example.com"])
@pytest.mark.parametrize(
    "command", [["serve"], ["retention", "sweep"], ["token", "--org", "org-a"]], ids=" ".join
)
def test_development_mode_off_loopback_refuses_to_start(
    tmp_path: Path, host: str, command: list[str]
) -> None:
    """The reproduction: no TETHER_JWT_SECRET and TETHER_HOST=0.0.0.0 used to serve with a printed ADMIN
    token. Every command that builds the runtime now exits non-zero with one line saying why."""
    finished = subprocess.run(
        [*CLI, *command],
        env=environment(development_env(tmp_path, TETHER_HOST=host)),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert finished.returncode != 0
    assert finished.stdout == ""
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1, finished.stderr
    assert "TETHER_JWT_SECRET is unset" in lines[0]
    assert repr(host) in lines[0]
    assert "Traceback" not in finished.stderr
    assert not (tmp_path / "var").exists()  # nothing generated, no secrets, no database


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_development_mode_on_loopback_starts_and_writes_owner_only_files(tmp_path: Path, host: str) -> None:
    with service_process(development_env(tmp_path, TETHER_HOST=host), tmp_path) as service:
        assert "DEVELOPMENT MODE" in service.output()
        assert httpx.get(f"{service.url}/healthz").status_code == 200

        data_dir = tmp_path / "var"
        created = [path for path in data_dir.rglob("*")] + [data_dir]
        assert {p.name for p in created} >= {"dev-secrets.json", "tether.db", "storage", "var"}
        for path in created:
            expected = 0o700 if path.is_dir() else 0o600
            assert stat.S_IMODE(path.stat().st_mode) == expected, path


@pytest.mark.parametrize(
    "path",
    [
        "/healthz/",
        "/api/calls/history/",
        "/api/calls/CA123/recording/",
        "/docs/",
        "/api/calls/voice-ai/config/",
    ],
)
async def test_a_trailing_slash_never_redirects_to_the_clients_host(
    client: httpx.AsyncClient, path: str
) -> None:
    """Starlette used to answer `/healthz/` with 307 to `http://<Host header>/healthz`."""
    response = await client.get(path, headers={"Host": "evil.example"})

    assert "evil.example" not in response.headers.get("location", "")
    assert response.status_code == 404  # the path as written, in the error envelope; never a 3xx
    assert response.json()["success"] is False
