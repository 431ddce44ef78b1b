"""Create, show (masked), regenerate and check user API keys; and count their ingests per minute."""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tether_relay.apikeys.models import ApiKey
from tether_relay.apikeys.repository import ApiKeyRepository
from tether_relay.auth.principal import Principal
from tether_relay.db import utcnow
from tether_relay.errors import Conflict, RateLimited, Unauthorized

PREFIX = "tk_live_"
WINDOW = timedelta(minutes=1)
# Each round of concurrent writers of one user's key lets one through; beyond this many, answer 409.
CONFLICT_ATTEMPTS = 10


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def mask(last_four: str) -> str:
    return f"{PREFIX}****{last_four}"


@dataclass(frozen=True, slots=True)
class ShownKey:
    api_key: str  # in full only when just created; masked otherwise
    created: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class KeyHolder:
    """Who an API key speaks for."""

    key_id: int
    user_id: str
    organization_id: str


class ApiKeyService:
    """Each operation is one unit of work (`sessions.begin()`: committed on success, rolled back on
    any error)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def show_or_create(self, principal: Principal) -> ShownKey:
        for _ in range(CONFLICT_ATTEMPTS):
            try:
                return await self._show_or_create_once(principal)
            except IntegrityError:  # a concurrent first call created it: show that one, masked
                continue
        raise Conflict()

    async def _show_or_create_once(self, principal: Principal) -> ShownKey:
        async with self._sessions.begin() as session:
            keys = ApiKeyRepository(session)
            live = await keys.live(principal.organization_id, principal.user_id)
            if live is not None:
                return ShownKey(mask(live.last_four), False, live.created_at)
            key, row = await _insert(keys, principal)
        return ShownKey(key, True, row.created_at)

    async def regenerate(self, principal: Principal) -> ShownKey:
        """Revokes the live key at once and returns a new one, in one transaction.

        Concurrent regenerations collide on the one-live-key index (on PostgreSQL each one's UPDATE cannot
        see the key another is inserting): the loser starts again, and revokes the winner's key."""
        for _ in range(CONFLICT_ATTEMPTS):
            try:
                return await self._regenerate_once(principal)
            except IntegrityError:
                continue
        raise Conflict()

    async def _regenerate_once(self, principal: Principal) -> ShownKey:
        async with self._sessions.begin() as session:
            keys = ApiKeyRepository(session)
            await keys.revoke_live(principal.organization_id, principal.user_id, utcnow())
            key, row = await _insert(keys, principal)
        return ShownKey(key, True, row.created_at)

    async def authenticate(self, key: str) -> KeyHolder:
        if not key.startswith(PREFIX) or len(key) > 128:
            raise Unauthorized("Invalid API key")
        async with self._sessions() as session:
            row = await ApiKeyRepository(session).by_hash(_hash(key))
        if row is None or row.revoked_at is not None:
            raise Unauthorized("Invalid API key")
        return KeyHolder(row.id, row.user_id, row.organization_id)

    async def count_ingest(self, holder: KeyHolder, limit: int, now: datetime | None = None) -> None:
        """One more ingest for this key, or RateLimited when it had `limit` in the last minute (replicas
        share one exact budget: see ApiKeyRepository.count_hit)."""
        now = now or utcnow()
        async with self._sessions.begin() as session:
            oldest = await ApiKeyRepository(session).count_hit(holder.key_id, now, WINDOW, limit)
        if oldest is not None:
            raise RateLimited(max(1, math.ceil((oldest + WINDOW - now).total_seconds())))


async def _insert(keys: ApiKeyRepository, principal: Principal) -> tuple[str, ApiKey]:
    key = PREFIX + secrets.token_hex(18)
    row = await keys.add(
        ApiKey(
            organization_id=principal.organization_id,
            user_id=principal.user_id,
            key_hash=_hash(key),
            last_four=key[-4:],
            created_at=utcnow(),
        )
    )
    return key, row
