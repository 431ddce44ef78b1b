"""The sweep of unreferenced objects: `tether-relay storage sweep [--dry-run]`, and its scheduled job.

Audio is uploaded before the row that names it is committed (a row must never point at nothing), so a
crash, a kill or a failed commit in between leaves an object that no row names. The sweep lists our
recordings bucket and deletes the objects that no recording row names and that are older than a grace
period: an upload whose row is still being committed is younger than that, so a referenced object is
never touched. The bucket Sinch records into is Sinch's and the customer's: it is never swept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tether_relay.calls.repository import CallRepository
from tether_relay.db import utcnow
from tether_relay.storage.base import ListedObject
from tether_relay.storage.buckets import RECORDINGS, Buckets

# Far longer than any upload and commit takes (a download is bounded to minutes).
DEFAULT_GRACE = timedelta(hours=24)
STORAGE_SWEEP = "storage-sweep"  # the scheduled job (jobs/schedules.py)
log = logging.getLogger("tether_relay.storage_sweep")
_BATCH = 500


@dataclass(frozen=True, slots=True)
class Orphan:
    bucket: str
    key: str
    modified_at: datetime


class StorageSweep:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        buckets: Buckets,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._buckets = buckets
        self._clock = clock

    async def sweep(self, *, grace: timedelta = DEFAULT_GRACE, dry_run: bool = False) -> list[Orphan]:
        """The unreferenced objects older than `grace`; deleted unless `dry_run`."""
        store = self._buckets.get(RECORDINGS)
        cutoff = self._clock() - grace
        found: list[Orphan] = []
        batch: list[ListedObject] = []
        async for listed in store.listing():
            if listed.modified_at <= cutoff:
                batch.append(listed)
            if len(batch) >= _BATCH:
                found += await self._unreferenced(batch)
                batch = []
        found += await self._unreferenced(batch)
        if not dry_run:
            for orphan in found:
                await store.delete(orphan.key)
        return found

    async def job(self, _payload: dict[str, str]) -> None:
        orphans = await self.sweep()
        log.info("storage sweep", extra={"deleted": len(orphans)})

    async def _unreferenced(self, batch: list[ListedObject]) -> list[Orphan]:
        if not batch:
            return []
        async with self._sessions() as session:
            named = await CallRepository(session).referenced(RECORDINGS, [o.key for o in batch])
        return [Orphan(RECORDINGS, o.key, o.modified_at) for o in batch if o.key not in named]
