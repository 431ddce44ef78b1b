"""A customer's webhook receiver on a loopback port: every request is verified with the `standardwebhooks`
library itself against the secrets the test gave the path, and recorded with what verified it. Answers are
planned per path (status, delay, Retry-After), 204 when nothing is planned."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter, defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.fakes.loopback import running


@dataclass(frozen=True)
class Answer:
    status: int = 204
    delay: float = 0.0
    retry_after: str | None = None


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified_by: tuple[str, ...]  # the secrets (of the path's) whose signature verified

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def payload(self) -> Any:
        return json.loads(self.body)

    @property
    def type(self) -> str:
        return str(self.payload["type"])


@dataclass
class Receiver:
    base_url: str = ""
    secrets: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    plans: dict[str, deque[Answer]] = field(default_factory=lambda: defaultdict(deque))
    received: list[Received] = field(default_factory=list)
    # Requests to a path with an unset gate wait here until the test sets it.
    gates: dict[str, threading.Event] = field(default_factory=dict)
    in_flight: Counter[str] = field(default_factory=Counter)
    most_in_flight: Counter[str] = field(default_factory=Counter)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def plan(self, path: str, *answers: Answer) -> None:
        self.plans[path].extend(answers)

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    def hold(self, path: str) -> threading.Event:
        self.gates[path] = threading.Event()
        return self.gates[path]

    def reset(self) -> None:
        for gate in self.gates.values():
            gate.set()
        self.gates.clear()
        self.secrets.clear()
        self.plans.clear()
        self.received.clear()
        self.in_flight.clear()
        self.most_in_flight.clear()

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        headers = {name.lower(): value for name, value in request.headers.items()}
        path = request.url.path
        verified = []
        for secret in self.secrets.get(path, []):
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
            verified.append(secret)
        answer = self.plans[path].popleft() if self.plans.get(path) else Answer()
        self.in_flight[path] += 1
        self.most_in_flight[path] = max(self.most_in_flight[path], self.in_flight[path])
        try:
            if (gate := self.gates.get(path)) is not None:
                await asyncio.to_thread(gate.wait, 60)
            if answer.delay:
                await asyncio.sleep(answer.delay)
        finally:
            self.in_flight[path] -= 1
        self.received.append(Received(path, headers, body, tuple(verified)))
        extra = {"Retry-After": answer.retry_after} if answer.retry_after else {}
        return Response(status_code=answer.status, headers=extra)

    def asgi(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self.receive, methods=["POST"])])


@pytest.fixture(scope="session")
def receiver_server() -> Iterator[Receiver]:
    with running(Receiver()) as fake:
        yield fake


@pytest.fixture
def receiver(receiver_server: Receiver) -> Receiver:
    receiver_server.reset()
    return receiver_server
