"""The real service (`tether-relay serve`) as a subprocess, with the tests' secrets."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.service import SERVE, ServiceProcess, environment, free_port, running

from tests.conftest import JWT_SECRET, SECRET_KEY

__all__ = ["ServiceProcess", "service_env", "service_process"]


def service_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """TETHER_* settings for a service process sharing the tests' secrets (so test tokens work on it)."""
    return {
        "TETHER_DATABASE_URL": database_url,
        "TETHER_DATA_DIR": str(data_dir),
        "TETHER_JWT_SECRET": JWT_SECRET,
        "TETHER_SECRET_KEY": SECRET_KEY,
        **{f"TETHER_{name.upper()}": value for name, value in extra.items()},
    }


@contextmanager
def service_process(env: dict[str, str], workdir: Path, name: str = "service") -> Iterator[ServiceProcess]:
    """The service with `env` as its only TETHER_* settings; stopped (SIGTERM) on exit."""
    port = free_port()
    settings = {"TETHER_PORT": str(port), "TETHER_LOG_LEVEL": "warning", **env}
    with running(
        SERVE, environment(settings), port=port, cwd=workdir, log=workdir / f"{name}.log"
    ) as service:
        yield service
