"""Where an unexpected error ends (api/request_context.py), on the service's own app and middleware: one
log line with the request's id, a 500 in the envelope before the answer started, and after it a body left
unfinished (never a complete-looking truncated answer) with `aborted` on the access line."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from tether_relay import logs


async def fails_at_once() -> None:
    raise RuntimeError("boom")


async def fails_mid_stream() -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:
        yield b'{"audioData": "data:audio/mpeg;base64,AAAA'
        raise RuntimeError("the provider went away")

    return StreamingResponse(body(), media_type="application/json")


@pytest.fixture
def failing(app: FastAPI) -> FastAPI:
    app.add_api_route("/test/at-once", fails_at_once)
    app.add_api_route("/test/mid-stream", fails_mid_stream)
    return app


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    logs.configure("info", stream)
    yield stream
    logs.stop()


def records(output: io.StringIO) -> list[dict[str, Any]]:
    logs.stop()
    return [json.loads(line) for line in output.getvalue().splitlines()]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_an_error_before_the_answer_is_a_500_in_the_envelope_logged_with_the_request_id(
    failing: FastAPI, output: io.StringIO
) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=failing), base_url="http://t") as client:
        response = await client.get("/test/at-once", headers={"X-Request-ID": "req-at-once"})

    assert response.status_code == 500
    assert response.json() == {"success": False, "error": "Internal server error", "code": "INTERNAL_ERROR"}
    error, access = [
        r for r in records(output) if r["logger"] in ("tether_relay.errors", "tether_relay.access")
    ]
    assert error["message"] == "unhandled error"
    assert error["cause"].startswith("RuntimeError at test_request_context.py:")
    assert (error["request_id"], access["request_id"], access["status"]) == (
        "req-at-once",
        "req-at-once",
        500,
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_an_error_mid_stream_leaves_the_body_unfinished_and_says_aborted(
    failing: FastAPI, output: io.StringIO
) -> None:
    sent: list[dict[str, Any]] = []

    asked = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if asked.is_set():
            await asyncio.Event().wait()  # the client stays: no disconnect
        asked.set()
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(b"x-request-id", b"req-mid-stream")]
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/test/mid-stream",
        "headers": headers,
        "query_string": b"",
    }
    await failing({**scope, "app": failing}, receive, send)  # type: ignore[arg-type]

    assert sent[0]["status"] == 200
    assert all(message.get("more_body", False) for message in sent[1:])  # no final, complete-looking body
    lines = [r for r in records(output) if r.get("request_id") == "req-mid-stream"]
    assert [(r["message"], r.get("aborted")) for r in lines] == [
        ("response aborted", None),
        ("request", True),
    ]
