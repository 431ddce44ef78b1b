"""`tether-relay serve` on an empty machine: development mode prints a curl line that works.

This starts the real command in a subprocess (uvicorn with uvloop and httptools), as `make serve` does.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tether_relay.demo import demo_audio


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def first_run(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")}
    port = free_port()
    env |= {
        "TETHER_PORT": str(port),
        "TETHER_DATA_DIR": str(tmp_path / "var"),
        "TETHER_DATABASE_URL": f"sqlite:///{tmp_path}/var/tether.db",
    }
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tether_relay.cli", "serve"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if "Uvicorn running" in log.read_text():
                break
            assert process.poll() is None, log.read_text()
            time.sleep(0.1)
        else:
            pytest.fail("the service did not start:\n" + log.read_text())
        yield log.read_text(), tmp_path
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_printed_curl_fetches_the_demo_recording(first_run: tuple[str, Path]) -> None:
    output, _ = first_run
    assert "DEVELOPMENT MODE" in output
    match = re.search(r'^curl -H "Authorization: Bearer (\S+)" (\S+)$', output, re.MULTILINE)
    assert match, output
    token, url = match.groups()

    response = httpx.get(url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    body = response.json()
    assert body["transcriptionData"][0]["role"] == "agent"
    audio = httpx.get(body["audioUrl"])
    assert audio.status_code == 200
    assert audio.content == demo_audio()

    tampered = body["audioUrl"][:-1] + ("A" if body["audioUrl"][-1] != "A" else "B")
    assert httpx.get(tampered).status_code == 403
