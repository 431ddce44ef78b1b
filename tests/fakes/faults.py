"""Faults a provider fake can be told to inject, and the request counts every fake keeps."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

Kind = Literal[
    "404", "401", "500", "503", "slow", "truncate", "reset", "invalid-json", "drip", "pace", "redirect"
]
ErrorBody = Callable[[int], dict[str, Any]]


@dataclass
class Fault:
    kind: Kind
    times: int
    path_contains: str
    delay: float = 0.0
    after: int = 0  # let this many matching requests through first
    # "pace": `head` bytes at once, then `chunk` bytes every `delay` seconds.
    head: int = 0
    chunk: int = 1
    # "redirect": answer `status` with a Location of `to` + the request's path and query.
    to: str = ""
    status: int = 307


@dataclass
class FaultPlan:
    """Which requests fail and how; plus a count of every request by path, for assertions."""

    faults: list[Fault] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(
        self,
        kind: Kind,
        *,
        times: int = 1,
        path_contains: str = "",
        delay: float = 0.0,
        after: int = 0,
        **shape: Any,
    ) -> None:
        with self._lock:
            self.faults.append(Fault(kind, times, path_contains, delay, after, **shape))

    def take(self, path: str) -> Fault | None:
        with self._lock:
            self.requests[path] += 1
            for fault in self.faults:
                if fault.times > 0 and fault.path_contains in path:
                    if fault.after > 0:
                        fault.after -= 1
                        continue
                    fault.times -= 1
                    return fault
        return None

    def count(self, path_contains: str = "") -> int:
        with self._lock:
            return sum(n for path, n in self.requests.items() if path_contains in path)

    def reset(self) -> None:
        with self._lock:
            self.faults.clear()
            self.requests.clear()


class FaultInjection:
    """ASGI wrapper: counts every request, and answers the planned faults in the provider's error shape."""

    def __init__(self, app: ASGIApp, plan: FaultPlan, error_body: ErrorBody) -> None:
        self._app = app
        self._plan = plan
        self._error_body = error_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        fault = self._plan.take(scope["path"])
        if fault is None:
            await self._app(scope, receive, send)
        elif fault.kind in ("404", "401", "500", "503"):
            await _json(send, int(fault.kind), self._error_body(int(fault.kind)))
        elif fault.kind == "slow":
            await asyncio.sleep(fault.delay or 5.0)
            await self._app(scope, receive, send)
        elif fault.kind == "invalid-json":
            await _raw(send, 200, b'{"this is": not json', b"application/json")
        elif fault.kind == "reset":
            raise ConnectionResetError("fake: connection reset on purpose")
        elif fault.kind == "drip":
            await self._app(scope, receive, _dripping(send, fault.delay or 0.5))
        elif fault.kind == "pace":
            await self._app(scope, receive, _paced(send, fault))
        elif fault.kind == "redirect":
            query = scope["query_string"].decode()
            location = fault.to + scope["path"] + (f"?{query}" if query else "")
            await send(
                {
                    "type": "http.response.start",
                    "status": fault.status,
                    "headers": [(b"location", location.encode()), (b"content-length", b"0")],
                }
            )
            await send({"type": "http.response.body", "body": b""})
        else:
            await self._app(scope, receive, _truncating(send))


DRIP_SECONDS = 3.0  # then the rest at once, so an abandoned drip does not outlive its test


def _dripping(send: Send, seconds_per_byte: float) -> Send:
    """The body a byte at a time: each read is quick, yet the whole takes far longer than it should."""

    async def dripped(message: Message) -> None:
        if message["type"] != "http.response.body":
            await send(message)
            return
        body = message.get("body", b"")
        dripped_bytes = min(len(body), int(DRIP_SECONDS / seconds_per_byte))
        for index in range(dripped_bytes):
            await asyncio.sleep(seconds_per_byte)
            await send({"type": "http.response.body", "body": body[index : index + 1], "more_body": True})
        await send(
            {
                "type": "http.response.body",
                "body": body[dripped_bytes:],
                "more_body": message.get("more_body", False),
            }
        )

    return dripped


PACE_SECONDS = 8.0  # then the rest at once, as for a drip


def _paced(send: Send, fault: Fault) -> Send:
    """The body's first `fault.head` bytes at once, then `fault.chunk` bytes every `fault.delay` seconds:
    a healthy large download at a set speed, or (a small chunk) a drip that starts past the read-ahead."""

    async def paced(message: Message) -> None:
        if message["type"] != "http.response.body":
            await send(message)
            return
        body = message.get("body", b"")
        await send({"type": "http.response.body", "body": body[: fault.head], "more_body": True})
        position, started = fault.head, asyncio.get_running_loop().time()
        while position < len(body) and asyncio.get_running_loop().time() - started < PACE_SECONDS:
            await asyncio.sleep(fault.delay)
            chunk = body[position : position + fault.chunk]
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            position += len(chunk)
        await send(
            {
                "type": "http.response.body",
                "body": body[position:],
                "more_body": message.get("more_body", False),
            }
        )

    return paced


def _truncating(send: Send) -> Send:
    """Announce the whole body, send half of it, then drop the connection."""
    started: list[Message] = []

    async def truncated(message: Message) -> None:
        if message["type"] == "http.response.start":
            started.append(message)
            return
        body = message.get("body", b"")
        headers = [(k, v) for k, v in started[0]["headers"] if k.lower() != b"content-length"]
        await send({**started[0], "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        raise ConnectionResetError("fake: body truncated on purpose")

    return truncated


async def _json(send: Send, status: int, body: dict[str, Any]) -> None:
    await _raw(send, status, json.dumps(body).encode(), b"application/json")


async def _raw(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
