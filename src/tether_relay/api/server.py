"""The HTTP server's protocol: uvicorn's httptools protocol with deadlines on slow clients, and its own
error answers in the contract's envelope.

uvicorn times a connection out only between requests, and any byte received cancels that: a client that
connects and sends nothing, or sends its headers a byte at a time, or drips its body, holds a connection
(and a file descriptor) for ever. Here, per connection:
- a request's headers must arrive whole within `timeout` of the connection or of the request's first
  byte, else 408 (nothing received yet: the connection is just closed, as uvicorn closes idle ones);
- a body must keep coming: each `timeout` window while it is incomplete brings `BODY_MIN_BYTES` or its
  end, else the connection is closed (the route reading it sees the client gone, a 400). A window in
  which uvicorn itself paused reading (the route has not consumed what came) does not count against it;
- a request line and headers larger than `MAX_HEADER_BYTES` are answered 431 and the connection closed
  (httptools sets no limit: four strangers sending 200 MiB of headers each held 800 MiB);
- a response sent before its request's body was read whole closes the connection `timeout` later, if
  the body has not ended by then.
It subclasses uvicorn's protocol (pinned in uv.lock); tests/integration/test_slow_clients.py drives the
real `serve` command over raw sockets.
"""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from typing import Any

import orjson
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from tether_relay.api.errors import envelope
from tether_relay.errors import AppError, HeadersTooLarge, RequestTimeout, ValidationFailed

# 800 B/s on average: any real client, however slow its network, sends faster.
BODY_MIN_BYTES = 8192
# A request line and headers: a bearer JWT and a signature header take a few KiB (nginx allows 32 KiB).
MAX_HEADER_BYTES = 64 * 1024


def _raw_response(error: AppError) -> bytes:
    body = orjson.dumps(envelope(error))
    return (
        f"HTTP/1.1 {error.status_code} {HTTPStatus(error.status_code).phrase}\r\n"
        f"content-type: application/json\r\ncontent-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode() + body


_MALFORMED = _raw_response(ValidationFailed("Malformed HTTP request"))
_HEADERS_TOO_SLOW = _raw_response(RequestTimeout())
_HEADERS_TOO_LARGE = _raw_response(HeadersTooLarge())


class DeadlineProtocol(HttpToolsProtocol):
    timeout: float = 10.0  # set per server by `protocol_with`

    def __init__(self, config: Config, server_state: ServerState, **kwargs: Any) -> None:
        super().__init__(config, server_state, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._linger: asyncio.TimerHandle | None = None
        self._body_window = 0
        self._body_complete = True
        self._started = False
        self._header_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer = self.loop.call_later(self.timeout, self._headers_too_slow)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # Bytes that arrive outside a body belong to a request line and headers (the chunk that completes
        # them may carry a body's start too: the total is checked only while they are still incomplete).
        reading_headers = self._body_complete
        if reading_headers:
            self._header_bytes += len(data)
        super().data_received(data)
        if reading_headers and self._body_complete and self._header_bytes > MAX_HEADER_BYTES:
            self._answer_and_close(_HEADERS_TOO_LARGE)

    def on_message_begin(self) -> None:
        self._started = True
        if self._header_timer is None:  # a keep-alive connection's next request: its own deadline
            self._header_timer = self.loop.call_later(self.timeout, self._headers_too_slow)
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._cancel()
        self._header_bytes = 0
        self._body_complete = False
        self._body_window = 0
        self._body_timer = self.loop.call_later(self.timeout, self._body_check)
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._body_window += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._body_complete = True
        self._cancel()
        self._started = False
        super().on_message_complete()

    def on_response_complete(self) -> None:
        """An answer given before the body was read (a stranger's 401, a 413) ends the connection once the
        rest of the body has had `timeout` to arrive (uvicorn would go on parsing whatever the client
        streams, for ever if it is chunked). Not at once: a client still sending would get a reset for
        an answer, and most lose the answer with it (nginx's lingering close does the same)."""
        super().on_response_complete()
        if not self._body_complete and self._linger is None:
            self._linger = self.loop.call_later(self.timeout, self.transport.close)

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to bytes that are not HTTP, in our envelope instead of plain text."""
        self._answer_and_close(_MALFORMED)

    def _answer_and_close(self, response: bytes) -> None:
        self._cancel()
        if not self.transport.is_closing():
            self.transport.write(response)
            self.transport.close()

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self._started:
            self.transport.write(_HEADERS_TOO_SLOW)
        self.transport.close()

    def _body_check(self) -> None:
        self._body_timer = None
        if self._body_complete or self.transport.is_closing():
            return
        if self._body_window < BODY_MIN_BYTES and not self.flow.read_paused:
            self.transport.close()
            return
        self._body_window = 0
        self._body_timer = self.loop.call_later(self.timeout, self._body_check)

    def _cancel(self) -> None:
        for timer in (self._header_timer, self._body_timer, self._linger):
            if timer is not None:
                timer.cancel()
        self._header_timer = self._body_timer = self._linger = None


def protocol_with(timeout: float) -> type[DeadlineProtocol]:
    """The protocol class uvicorn instantiates per connection, with this server's deadline."""
    return type("DeadlineProtocol", (DeadlineProtocol,), {"timeout": timeout})
