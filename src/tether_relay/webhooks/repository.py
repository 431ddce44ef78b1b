"""The queries of webhooks: the events applied once, and which organisation an ElevenLabs agent signs for."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tether_relay.db import utcnow
from tether_relay.webhooks.models import ElevenLabsAgent, WebhookEvent


class WebhookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def applied(self, provider: str, event_key: str) -> WebhookEvent | None:
        """The event, if it was already applied."""
        return await self._session.scalar(
            select(WebhookEvent).where(WebhookEvent.provider == provider, WebhookEvent.event_key == event_key)
        )

    def record(self, provider: str, event_key: str, organization_id: str, call_id: str | None) -> None:
        """The event as applied; a concurrent duplicate surfaces as IntegrityError at the flush."""
        self._session.add(
            WebhookEvent(
                provider=provider,
                event_key=event_key[:255],
                organization_id=organization_id,
                call_id=call_id,
            )
        )

    async def agent_organization(self, agent_id: str) -> str | None:
        agent = await self._session.get(ElevenLabsAgent, agent_id)
        return agent.organization_id if agent is not None else None

    async def learn_agent(self, agent_id: str, organization_id: str) -> None:
        """The agent signs for this organisation (now); a concurrent first sighting surfaces as
        IntegrityError at the flush."""
        known = await self._session.get(ElevenLabsAgent, agent_id, with_for_update=True)
        if known is None:
            self._session.add(ElevenLabsAgent(agent_id=agent_id, organization_id=organization_id))
        elif known.organization_id != organization_id:
            known.organization_id, known.learnt_at = organization_id, utcnow()
