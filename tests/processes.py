"""The real service (`tether-relay serve`) as a subprocess, with the tests' secrets."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.service import SERVE, ServiceProcess, environment, free_port, running

from tests.conftest import JWT_SECRET, SECRET_KEY

__all__ = ["ServiceProcess", "free_port", "service_env", "service_process", "worker_process"]

WORKER = [sys.executable, "-m", "tether_relay.cli", "worker"]


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


@contextmanager
def worker_process(
    env: dict[str, str], workdir: Path, name: str = "worker", args: tuple[str, ...] = ()
) -> Iterator[subprocess.Popen[bytes]]:
    """`tether-relay worker` with `env` as its only TETHER_* settings; stopped (SIGTERM) on exit unless the
    test killed it first."""
    settings = {"TETHER_LOG_LEVEL": "warning", **env}
    with (workdir / f"{name}.log").open("ab") as log:
        process = subprocess.Popen(
            [*WORKER, *args], env=environment(settings), cwd=workdir, stdout=log, stderr=log
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
