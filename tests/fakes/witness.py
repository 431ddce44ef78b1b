"""A loopback server on another origin than any provider fake's: it records the headers of every request
it gets (to prove no credential reached it) and answers a fixed body, or redirects on to `then`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.fakes.loopback import running


@dataclass
class Witness:
    base_url: str = ""
    seen: list[dict[str, str]] = field(default_factory=list)
    body: bytes = b""
    media_type: str = "audio/mpeg"
    then: str = ""  # redirect on to this base URL (same path) instead of answering

    def reset(self) -> None:
        self.seen.clear()
        self.body, self.media_type, self.then = b"", "audio/mpeg", ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        self.seen.append(dict(request.headers))
        response: Response
        if self.then:
            query = f"?{request.url.query}" if request.url.query else ""
            response = RedirectResponse(f"{self.then}{request.url.path}{query}", status_code=307)
        else:
            response = Response(self.body, media_type=self.media_type)
        await response(scope, receive, send)

    def asgi(self) -> ASGIApp:
        return self  # uvicorn takes an instance with an async __call__ for ASGI 3 (a bound method, not)


@pytest.fixture(scope="session")
def witness_server() -> Iterator[Witness]:
    with running(Witness()) as fake:
        yield fake


@pytest.fixture
def witness(witness_server: Witness) -> Witness:
    witness_server.reset()
    return witness_server
