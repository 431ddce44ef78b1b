"""Run the service as a subprocess on a free loopback port, and stop it: one way, for the tests (replicas,
crash and first-run tests), the soak and the benchmark."""

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

SERVE = [sys.executable, "-m", "tether_relay.cli", "serve"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def environment(settings: dict[str, str]) -> dict[str, str]:
    """This process's environment without its TETHER_* variables, plus `settings`."""
    return {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")} | settings


@dataclass
class ServiceProcess:
    url: str
    log: Path | None
    process: subprocess.Popen[bytes]

    def output(self) -> str:
        return self.log.read_text() if self.log else ""

    def kill(self) -> None:
        """SIGKILL: no shutdown hook, no cleanup, as a crash or an OOM kill would leave things."""
        self.process.kill()
        self.process.wait(timeout=10)


@contextmanager
def running(
    command: list[str], env: dict[str, str], *, port: int, cwd: Path, log: Path | None = None
) -> Iterator[ServiceProcess]:
    """Start `command` (which must listen on `port`), wait until it accepts connections, stop it after."""
    with log.open("w") if log else open(os.devnull, "w") as out:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    service = ServiceProcess(f"http://127.0.0.1:{port}", log, process)
    try:
        _wait_until_listening(port, service)
        yield service
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def _wait_until_listening(port: int, service: ServiceProcess) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(f"the service exited:\n{service.output()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"the service did not start:\n{service.output()}")
