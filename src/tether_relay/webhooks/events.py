"""Apply a provider event exactly once. The event is recorded under a unique (provider, event key) in the
same transaction that applies it: a duplicate delivery finds it and changes nothing, and an event whose
application failed is not recorded, so the provider's retry applies it. A unique violation (a concurrent
duplicate, or a concurrent first event of the same call) rolls the transaction back and the event is
tried again from the start, when the other side's work is visible."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tether_relay.webhooks.models import WebhookEvent

ATTEMPTS = 3
Apply = Callable[[AsyncSession], Awaitable[str | None]]


def body_key(*parts: str | bytes) -> str:
    """An event key from parts that identify it (for providers whose events carry no id of their own)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\x00")
    return digest.hexdigest()


async def previous(
    sessions: async_sessionmaker[AsyncSession], provider: str, event_key: str
) -> WebhookEvent | None:
    """The event, if it was already applied: lets a handler skip expensive work for a duplicate."""
    async with sessions() as session:
        return await session.scalar(
            select(WebhookEvent).where(WebhookEvent.provider == provider, WebhookEvent.event_key == event_key)
        )


async def apply_once(
    sessions: async_sessionmaker[AsyncSession],
    *,
    provider: str,
    event_key: str,
    organization_id: str,
    apply: Apply,
) -> tuple[str | None, bool]:
    """(the call the event concerned, whether it was a duplicate)."""
    for attempt in range(ATTEMPTS):
        async with sessions() as session:
            previous = await session.scalar(
                select(WebhookEvent).where(
                    WebhookEvent.provider == provider, WebhookEvent.event_key == event_key
                )
            )
            if previous is not None:
                return previous.call_id, True
            try:
                call_id = await apply(session)
                session.add(
                    WebhookEvent(
                        provider=provider,
                        event_key=event_key[:255],
                        organization_id=organization_id,
                        call_id=call_id,
                    )
                )
                await session.commit()
                return call_id, False
            except IntegrityError:
                await session.rollback()
                if attempt + 1 == ATTEMPTS:
                    raise
    raise AssertionError("unreachable")
