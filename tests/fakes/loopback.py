"""Run an ASGI app on a real loopback port in a background thread (uvicorn), for provider fakes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol, TypeVar

import uvicorn
from starlette.types import ASGIApp


class LoopbackServer:
    def __init__(self, app: ASGIApp) -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="critical", lifespan="off", loop="asyncio", http="h11"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LoopbackServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake server did not start")
            time.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


class Fake(Protocol):
    base_url: str

    def asgi(self) -> ASGIApp: ...


F = TypeVar("F", bound=Fake)


@contextmanager
def running(fake: F) -> Iterator[F]:
    """Serve a provider fake on a loopback port for as long as the block lasts."""
    server = LoopbackServer(fake.asgi()).start()
    fake.base_url = server.url
    try:
        yield fake
    finally:
        server.stop()
