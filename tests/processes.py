"""Start the real service (`python -m tether_relay.cli serve`) as a subprocess on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import JWT_SECRET, SECRET_KEY


def service_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """TETHER_* settings for a service process sharing the tests' secrets (so test tokens work on it)."""
    return {
        "TETHER_DATABASE_URL": database_url,
        "TETHER_DATA_DIR": str(data_dir),
        "TETHER_JWT_SECRET": JWT_SECRET,
        "TETHER_SECRET_KEY": SECRET_KEY,
        **{f"TETHER_{name.upper()}": value for name, value in extra.items()},
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ServiceProcess:
    url: str
    log: Path
    process: subprocess.Popen[bytes]

    def output(self) -> str:
        return self.log.read_text()

    def kill(self) -> None:
        """SIGKILL: no shutdown hook, no cleanup, as a crash or an OOM kill would leave things."""
        self.process.kill()
        self.process.wait(timeout=10)


@contextmanager
def service_process(env: dict[str, str], workdir: Path, name: str = "service") -> Iterator[ServiceProcess]:
    """The service with `env` as its only TETHER_* settings; stopped (SIGTERM) on exit."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")}
    environment |= {"TETHER_PORT": str(port), "TETHER_LOG_LEVEL": "warning", **env}
    log = workdir / f"{name}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tether_relay.cli", "serve"],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
    service = ServiceProcess(f"http://127.0.0.1:{port}", log, process)
    try:
        _wait_until_listening(port, process, service)
        yield service
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=20)


def _wait_until_listening(port: int, process: subprocess.Popen[bytes], service: ServiceProcess) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the service exited:\n{service.output()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"the service did not start:\n{service.output()}")
