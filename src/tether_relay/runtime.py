"""Everything a running service holds, built from settings in one place and shared by the API and CLI."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tether_relay.db import create_engine, session_factory
from tether_relay.keys import Keys, load_keys
from tether_relay.providers.base import AudioProvider
from tether_relay.providers.registry import ProviderRegistry
from tether_relay.providers.stored import StoredAudio
from tether_relay.settings import Settings
from tether_relay.storage.buckets import Buckets, build_buckets


@dataclass(slots=True)
class Runtime:
    settings: Settings
    keys: Keys
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    buckets: Buckets
    providers: ProviderRegistry
    # An optimisation only: organisations are never deleted, so "seen" can skip a query. Nothing
    # correct depends on it (another replica simply does its own first insert-or-ignore).
    known_organizations: set[str] = field(default_factory=set)

    async def close(self) -> None:
        await self.engine.dispose()


def build_runtime(settings: Settings) -> Runtime:
    keys = load_keys(settings)
    engine = create_engine(settings.database_url)
    buckets = build_buckets(settings, keys)
    stored = StoredAudio(buckets, settings.signed_url_ttl_seconds)
    audio: dict[str, AudioProvider] = {"external": stored, "elevenlabs": stored, "sinch": stored}
    return Runtime(
        settings=settings,
        keys=keys,
        engine=engine,
        sessions=session_factory(engine),
        buckets=buckets,
        providers=ProviderRegistry(audio),
    )
