"""Around every HTTP request: one provider read budget (providers/deadline.py), so that everything the
request asks of providers (a recording's audio, then its transcript; a playback's open) answers within
TETHER_PROVIDER_READ_BUDGET_SECONDS of its arrival, every retry included. Pure ASGI, so the context
variable is set for the whole request, tasks it starts included."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from tether_relay.providers.deadline import read_budget


class ProviderBudget:
    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with read_budget(self.seconds):
            await self.app(scope, receive, send)
