"""Apply a provider event exactly once. The event is recorded under a unique (provider, event key) in the
same transaction that applies it: a duplicate delivery finds it and changes nothing, and an event whose
application failed is not recorded, so the provider's retry applies it. A unique violation (a concurrent
duplicate, or a concurrent first event of the same call) rolls the transaction back and the event is
tried again from the start, when the other side's work is visible."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tether_relay.providers.events import ProviderEvent
from tether_relay.webhooks.models import WebhookEvent
from tether_relay.webhooks.repository import WebhookRepository

ATTEMPTS = 3
Apply = Callable[[AsyncSession], Awaitable[str | None]]


async def previous(sessions: async_sessionmaker[AsyncSession], event: ProviderEvent) -> WebhookEvent | None:
    """The event, if it was already applied: lets a handler skip expensive work for a duplicate."""
    async with sessions.begin() as session:
        return await WebhookRepository(session).applied(event.provider, event.event_key)


async def apply_once(
    sessions: async_sessionmaker[AsyncSession], event: ProviderEvent, apply: Apply
) -> tuple[str | None, bool]:
    """(the call the event concerned, whether it was a duplicate)."""
    for attempt in range(ATTEMPTS):
        try:
            async with sessions.begin() as session:  # commits on a clean exit, rolls back on an error
                events = WebhookRepository(session)
                if (done := await events.applied(event.provider, event.event_key)) is not None:
                    return done.call_id, True
                call_id = await apply(session)
                events.record(event.provider, event.event_key, event.organization_id, call_id)
            return call_id, False
        except IntegrityError:
            if attempt + 1 == ATTEMPTS:
                raise
    raise AssertionError("unreachable")
