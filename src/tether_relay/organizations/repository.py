from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tether_relay.organizations.models import Organization, ProviderCredential


class OrganizationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def ensure(self, organization_id: str) -> None:
        """Create the organisation's row the first time its id is seen; concurrent sightings are fine."""
        if await self._session.get(Organization, organization_id) is not None:
            return
        try:
            async with self._session.begin_nested():
                await self._session.execute(insert(Organization).values(id=organization_id))
        except IntegrityError:
            pass  # another request or replica created it first

    async def lock(self, organization_id: str) -> None:
        """Hold the organisation's row until this transaction ends, so read-modify-writes of what hangs off
        it (its provider credentials) run one at a time, across replicas too.

        An UPDATE rather than SELECT … FOR UPDATE because it locks on both databases: a row lock on
        PostgreSQL, and on SQLite (where FOR UPDATE is ignored and the driver begins a transaction only at
        the first write) it takes the database's write lock before anything is read, waiting out any other
        writer (busy_timeout) and then reading what that writer committed."""
        await self.ensure(organization_id)
        await self._session.execute(
            update(Organization)
            .where(Organization.id == organization_id)
            .values(retention_days=Organization.retention_days)
        )

    async def credential(self, organization_id: str, provider: str) -> ProviderCredential | None:
        """The organisation's (encrypted) credentials of one provider."""
        return await self._session.scalar(
            select(ProviderCredential).where(
                ProviderCredential.organization_id == organization_id,
                ProviderCredential.provider == provider,
            )
        )

    async def credentials_by_lookup_key(self, provider: str, lookup_key: str) -> list[ProviderCredential]:
        """Every organisation's `provider` credentials that carry this lookup key (one indexed query)."""
        rows = await self._session.scalars(
            select(ProviderCredential).where(
                ProviderCredential.provider == provider, ProviderCredential.lookup_key == lookup_key
            )
        )
        return list(rows.all())

    async def recent_credentials(self, provider: str, limit: int) -> list[ProviderCredential]:
        """The `limit` most recently updated credentials of a provider."""
        rows = await self._session.scalars(
            select(ProviderCredential)
            .where(ProviderCredential.provider == provider)
            .order_by(ProviderCredential.updated_at.desc())
            .limit(limit)
        )
        return list(rows.all())

    async def put_credential(self, row: ProviderCredential) -> None:
        self._session.add(row)

    async def remove_credential(self, row: ProviderCredential) -> None:
        await self._session.delete(row)

    async def exists(self, organization_id: str) -> bool:
        found = await self._session.scalar(select(Organization.id).where(Organization.id == organization_id))
        return found is not None

    async def retention_periods(self) -> list[tuple[str, int]]:
        """(organisation, days) for every organisation that keeps recordings for a limited time."""
        rows = await self._session.execute(
            select(Organization.id, Organization.retention_days).where(
                Organization.retention_days.is_not(None)
            )
        )
        return [(organization_id, days) for organization_id, days in rows if days]

    async def set_retention(self, organization_id: str, days: int | None) -> None:
        await self.ensure(organization_id)
        organization = await self._session.get(Organization, organization_id)
        assert organization is not None
        organization.retention_days = days

    async def redaction_policy(self, organization_id: str) -> Any | None:
        """The organisation's redaction policy as stored (redaction/policy.py reads it); None is off."""
        return await self._session.scalar(
            select(Organization.redaction_policy).where(Organization.id == organization_id)
        )

    async def set_redaction_policy(self, organization_id: str, policy: dict[str, Any]) -> None:
        await self.ensure(organization_id)
        await self._session.execute(
            update(Organization).where(Organization.id == organization_id).values(redaction_policy=policy)
        )
