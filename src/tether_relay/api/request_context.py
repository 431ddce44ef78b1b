"""Around every HTTP request: its id (taken from `X-Request-ID` when the caller sends a plain one, else
new; echoed in the response and on every log line), its provider read budget (providers/deadline.py:
everything the request asks of providers answers within TETHER_PROVIDER_READ_BUDGET_SECONDS of its
arrival, every retry included), its latency histogram by route template, and one access log line. Pure
ASGI, so streamed answers are timed to their last byte and the budget holds for tasks the request starts.

It is also where an unexpected error ends: here the request's id is still set (Starlette's outermost
handler runs after this has returned), so the one line naming the failure carries it. Before the answer
started that is a 500 in the envelope; after (a streamed body whose source failed mid-way) the body is
left unfinished, so the client sees a truncated response rather than a complete-looking one, and the
access line says `aborted`."""

from __future__ import annotations

import re
import secrets
import time

from prometheus_client.metrics import Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tether_relay import logs, tracing
from tether_relay.api.errors import cause, render
from tether_relay.errors import AppError
from tether_relay.logs import REQUEST_ID, redact
from tether_relay.metrics import REQUEST_SECONDS
from tether_relay.providers.deadline import read_budget

log = logs.ACCESS
_PLAIN_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContext:
    def __init__(self, app: ASGIApp, *, provider_budget_seconds: float) -> None:
        self.app = app
        self.budget = provider_budget_seconds
        # The histogram's child per label set, looked up here rather than through `labels()` (a lock and a
        # validation per request); the labels are bounded (api/app.py: methods, route templates, statuses).
        self._latency: dict[tuple[str, str, int], Histogram] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = next((value for name, value in scope["headers"] if name == b"x-request-id"), b"")
        sent_id = sent.decode("latin-1")
        # A caller's own id is kept if it is plain and carries nothing the logs would redact (an API key).
        request_id = (
            sent_id if _PLAIN_ID.match(sent_id) and redact(sent_id) == sent_id else secrets.token_hex(8)
        )
        id_header = (b"x-request-id", request_id.encode())
        context = REQUEST_ID.set(request_id)
        traced = tracing.request(scope["method"], request_id, scope["headers"])
        started = time.perf_counter()
        status = 500  # if the app fails before answering, the server answers 500

        started_answer = False
        aborted = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_answer
            if message["type"] == "http.response.start":
                status, started_answer = message["status"], True
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        try:
            with read_budget(self.budget):
                await self.app(scope, receive, send_with_id)
        except Exception as exc:  # noqa: BLE001 - the last stop of any error: logged once, answered if we can
            if started_answer:
                aborted = True
                log.error("response aborted", extra={"cause": cause(exc)})
            else:
                log.error("unhandled error", extra={"cause": cause(exc)})
                await render(AppError())(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            labels = (scope["method"], route, status)
            if (latency := self._latency.get(labels)) is None:
                latency = self._latency[labels] = REQUEST_SECONDS.labels(labels[0], route, str(status))
            latency.observe(seconds)
            fields = {
                "method": scope["method"],
                "route": route,
                "status": status,
                "ms": round(seconds * 1000, 1),
            }
            logs.access(fields | {"aborted": True} if aborted else fields)
            if traced is not None:
                traced.end(scope["method"], route, status)
            REQUEST_ID.reset(context)
