"""What the providers' verifiers need to know of the organisations, from their credentials and the agents
learnt: the verifiers themselves touch no database."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tether_relay.organizations.credentials import CredentialStore
from tether_relay.providers.events import Signers
from tether_relay.webhooks.repository import WebhookRepository


def signers(credentials: CredentialStore, provider: str, secret: str) -> Signers:
    """Each organisation whose `provider` credentials carry the sender's lookup key, with its `secret`."""

    async def find(lookup_key: str) -> list[tuple[str, str | None]]:
        return [
            (org, values.get(secret)) for org, values in await credentials.by_lookup_key(provider, lookup_key)
        ]

    return find


class ElevenLabsSenders:
    """Webhook secrets from the organisations' credentials; agents learnt in `elevenlabs_agents`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], credentials: CredentialStore) -> None:
        self._sessions = sessions
        self._credentials = credentials

    async def secret_of(self, organization_id: str) -> str | None:
        creds = await self._credentials.elevenlabs(organization_id)
        return creds.webhook_secret if creds else None

    async def recent(self, limit: int) -> list[tuple[str, str | None]]:
        return [
            (org, values.get("elevenlabsWebhookSecret"))
            for org, values in await self._credentials.recent("elevenlabs", limit)
        ]

    async def organization_of_agent(self, agent_id: str) -> str | None:
        async with self._sessions.begin() as session:
            return await WebhookRepository(session).agent_organization(agent_id)

    async def learn_agent(self, agent_id: str, organization_id: str) -> None:
        try:
            async with self._sessions.begin() as session:
                await WebhookRepository(session).learn_agent(agent_id, organization_id)
        except IntegrityError:
            pass  # a concurrent event learnt it first; routing is only a hint
