"""Request body caps by route: recordings (ingest, the ElevenLabs audio webhook) get the large cap,
everything else the small JSON one. A declared Content-Length over the cap is answered here at once;
otherwise Starlette's RequestBodyLimitMiddleware counts the body as it streams in and stops reading as
soon as it passes the cap, so an endless body is never read whole (its 413 is rendered in our envelope
by api/errors.py; for a declared length Starlette would answer in plain text, hence the check here)."""

from __future__ import annotations

from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from tether_relay.api.errors import render
from tether_relay.errors import PayloadTooLarge

LARGE_BODY_PATHS = ("/api/calls/ingest", "/api/webhook/elevenlabs")


class BodyLimits:
    def __init__(self, app: ASGIApp, *, large: int, small: int) -> None:
        self.app = app
        self._limits = {True: large, False: small}
        self._apps = {
            True: RequestBodyLimitMiddleware(app, max_body_size=large),
            False: RequestBodyLimitMiddleware(app, max_body_size=small),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared: bytes | None = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length" and declared is None:
                declared = value
            elif name == b"transfer-encoding":
                chunked = True
        declared = declared or b""
        if not chunked and declared.strip(b" \t0") == b"":
            # No body (RFC 9112 6.3: neither header, or a length of zero): nothing to count, and no
            # counting wrapper on the way of every GET.
            await self.app(scope, receive, send)
            return
        large = scope["path"].startswith(LARGE_BODY_PATHS)
        if declared.isdigit() and int(declared) > self._limits[large]:
            await render(PayloadTooLarge())(scope, receive, send)
            return
        await self._apps[large](scope, receive, send)
