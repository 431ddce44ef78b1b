"""The queries of call_redactions: each call's redacted copy under one policy. Every write is conditional
(on the policy it was asked under, on its status, on the call's recording not being deleted), so a job
that finishes late, or after a deletion, or under a policy since changed, changes nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from tether_relay.calls.models import Call, CallRedaction
from tether_relay.calls.repository import StoredKey
from tether_relay.db import rowcount
from tether_relay.redaction.policy import Policy


def _live_call(call_id: str) -> Any:
    return exists().where(Call.id == call_id, Call.recording_deleted_at.is_(None))


class RedactionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, call_id: str) -> CallRedaction | None:
        return await self._session.scalar(select(CallRedaction).where(CallRedaction.call_id == call_id))

    async def request(self, organization_id: str, call_id: str, policy: Policy, now: datetime) -> bool:
        """A pending redaction under `policy`, unless the call has one under it already (pending, ready
        or failed). True when this made it: the caller enqueues the job in the same transaction."""
        dialect = (await self._session.connection()).dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        added = await self._session.scalar(
            insert(CallRedaction)
            .values(
                call_id=call_id,
                organization_id=organization_id,
                status="pending",
                policy=policy.to_json(),
                policy_key=policy.key,
                requested_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing()
            .returning(CallRedaction.call_id)
        )
        if added is not None:
            return True
        # Made under another policy: made again (the old copy serves nobody, and is deleted on success).
        changed = await self._session.execute(
            update(CallRedaction)
            .where(
                CallRedaction.call_id == call_id, CallRedaction.policy_key != policy.key, _live_call(call_id)
            )
            .values(
                status="pending", policy=policy.to_json(), policy_key=policy.key, error=None, requested_at=now
            )
            .execution_options(synchronize_session=False)
        )
        return rowcount(changed) == 1

    async def renew(self, call_id: str, policy_key: str, older_than: datetime, now: datetime) -> bool:
        """Take over a pending request nobody finished in time (its job held or lost): True if this did."""
        renewed = await self._session.execute(
            update(CallRedaction)
            .where(
                CallRedaction.call_id == call_id,
                CallRedaction.policy_key == policy_key,
                CallRedaction.status == "pending",
                CallRedaction.requested_at < older_than,
            )
            .values(requested_at=now)
            .execution_options(synchronize_session=False)
        )
        return rowcount(renewed) == 1

    async def finish(
        self, call_id: str, policy_key: str, values: dict[str, Any]
    ) -> tuple[bool, StoredKey | None]:
        """Record the copy made under `policy_key` if it is still wanted: (True, the copy it replaces, to
        delete after the commit); (False, None) if it is not wanted (deleted, or asked again under
        another policy), when the caller deletes what it stored."""
        previous = await self.get(call_id)
        if previous is None or previous.policy_key != policy_key or previous.status != "pending":
            return False, None
        done = await self._session.execute(
            update(CallRedaction)
            .where(
                CallRedaction.call_id == call_id,
                CallRedaction.policy_key == policy_key,
                CallRedaction.status == "pending",
                _live_call(call_id),
            )
            .values(status="ready", error=None, **values)
            .execution_options(synchronize_session=False)
        )
        if rowcount(done) != 1:
            return False, None
        if (
            previous.storage_bucket
            and previous.storage_key
            and previous.storage_key != values.get("storage_key")
        ):
            return True, StoredKey(previous.storage_bucket, previous.storage_key)
        return True, None

    async def fail(self, call_id: str, policy_key: str, error: str) -> None:
        await self._session.execute(
            update(CallRedaction)
            .where(
                CallRedaction.call_id == call_id,
                CallRedaction.policy_key == policy_key,
                CallRedaction.status == "pending",
            )
            .values(status="failed", error=error[:200])
            .execution_options(synchronize_session=False)
        )
