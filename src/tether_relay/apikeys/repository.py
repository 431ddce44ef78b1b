"""Every query of API keys and their ingest counts."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tether_relay.apikeys.models import ApiKey, RateLimitHit
from tether_relay.organizations.repository import OrganizationRepository


class ApiKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def live(self, organization_id: str, user_id: str) -> ApiKey | None:
        return await self._session.scalar(
            select(ApiKey).where(
                ApiKey.organization_id == organization_id,
                ApiKey.user_id == user_id,
                ApiKey.revoked_at.is_(None),
            )
        )

    async def by_hash(self, key_hash: str) -> ApiKey | None:
        return await self._session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash))

    async def revoke_live(self, organization_id: str, user_id: str, now: datetime) -> None:
        await self._session.execute(
            update(ApiKey)
            .where(
                ApiKey.organization_id == organization_id,
                ApiKey.user_id == user_id,
                ApiKey.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )

    async def add(self, key: ApiKey) -> ApiKey:
        """Inserts the key (its organisation's row first); a second live key of the user is an
        IntegrityError on the one-live-key index."""
        await OrganizationRepository(self._session).ensure(key.organization_id)
        self._session.add(key)
        await self._session.flush()
        return key

    async def count_hit(self, key_id: int, now: datetime, window: timedelta, limit: int) -> datetime | None:
        """Records one ingest of the key unless it already had `limit` within `window`; then returns the
        oldest of those (when the budget frees up) and records nothing.

        Touching the key's row first serialises concurrent ingests of one key (a row lock on PostgreSQL,
        the write lock on SQLite), so replicas share one exact budget."""
        await self._session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))
        await self._session.execute(
            delete(RateLimitHit).where(RateLimitHit.api_key_id == key_id, RateLimitHit.at <= now - window)
        )
        count, oldest = (
            await self._session.execute(
                select(func.count(), func.min(RateLimitHit.at)).where(RateLimitHit.api_key_id == key_id)
            )
        ).one()
        if count >= limit:
            return oldest
        self._session.add(RateLimitHit(api_key_id=key_id, at=now))
        return None
