"""Provider credentials per organisation, encrypted at rest.

Each (organisation, provider) row holds one Fernet token of a JSON object. The organisation and provider
are sealed inside it too and checked on the way out, so a ciphertext copied into another organisation's
row does not decrypt there. Reads and writes use their own short transactions: adapters call this in the
middle of a request whose own session must stay free of write locks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tether_relay.organizations.models import ProviderCredential
from tether_relay.organizations.repository import OrganizationRepository

Values = dict[str, str]
# A change of one provider's credentials: the current values (None: there are
# none) in, the new ones (None: remove them) out.
Change = Callable[[Values | None], Values | None]


class CredentialsCorrupt(Exception):
    """A stored credential did not decrypt with this deployment's key (rotated key, or a moved row)."""


@dataclass(frozen=True, slots=True)
class TwilioCredentials:
    account_sid: str
    auth_token: str | None
    api_key_sid: str | None
    api_key_secret: str | None
    service_sid: str | None
    # The organisation asked us to delete Twilio's copy once ours is archived and verified.
    delete_after_archive: bool = False

    @property
    def basic_auth(self) -> tuple[str, str]:
        """Twilio accepts an API key pair or the account's auth token; prefer the revocable key."""
        if self.api_key_sid and self.api_key_secret:
            return self.api_key_sid, self.api_key_secret
        assert self.auth_token is not None
        return self.account_sid, self.auth_token


@dataclass(frozen=True, slots=True)
class ElevenLabsCredentials:
    api_key: str | None
    webhook_secret: str | None


class CredentialStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], key: bytes) -> None:
        self._sessions = sessions
        self._fernet = Fernet(key)

    def _seal(self, organization_id: str, provider: str, values: Values) -> str:
        plain = json.dumps({"organizationId": organization_id, "provider": provider, "values": values})
        return self._fernet.encrypt(plain.encode()).decode()

    def _open(self, row: ProviderCredential) -> Values:
        try:
            sealed = json.loads(self._fernet.decrypt(row.encrypted.encode()))
        except InvalidToken:
            raise CredentialsCorrupt(f"{row.provider} credentials do not decrypt") from None
        if (sealed.get("organizationId"), sealed.get("provider")) != (row.organization_id, row.provider):
            raise CredentialsCorrupt(f"{row.provider} credentials belong to another row")
        values: Values = sealed["values"]
        return values

    async def get(self, organization_id: str, provider: str) -> Values | None:
        async with self._sessions() as session:
            row = await OrganizationRepository(session).credential(organization_id, provider)
        return None if row is None else self._open(row)

    async def update(
        self, organization_id: str, provider: str, change: Change, *, lookup_field: str | None = None
    ) -> Values | None:
        """The one read-modify-write of an organisation's credentials: `change` gets the current values
        (None when there are none) and returns the new ones, or None to remove them. The organisation's
        row is locked first, so concurrent changes (two partial updates of different fields, a save and a
        delete) apply one after the other and none is lost. `lookup_field` names the lookup key's value."""
        async with self._sessions.begin() as session:
            organizations = OrganizationRepository(session)
            await organizations.lock(organization_id)
            row = await organizations.credential(organization_id, provider)
            values = change(None if row is None else self._open(row))
            if values is None:
                if row is not None:
                    await organizations.remove_credential(row)
            else:
                if row is None:
                    row = ProviderCredential(organization_id=organization_id, provider=provider, encrypted="")
                    await organizations.put_credential(row)
                row.encrypted = self._seal(organization_id, provider, values)
                row.lookup_key = values.get(lookup_field) if lookup_field else None
        return values

    async def save(
        self, organization_id: str, provider: str, values: Values, *, lookup_field: str | None = None
    ) -> None:
        """Replaces the provider's credentials whole."""
        await self.update(organization_id, provider, lambda _current: values, lookup_field=lookup_field)

    async def delete(self, organization_id: str, provider: str) -> bool:
        """Removes the provider's credentials; whether there were any."""
        existed = False

        def remove(current: Values | None) -> None:
            nonlocal existed
            existed = current is not None

        await self.update(organization_id, provider, remove)
        return existed

    async def by_lookup_key(self, provider: str, lookup_key: str) -> list[tuple[str, Values]]:
        """Every organisation whose `provider` credentials carry this lookup key (one indexed query)."""
        async with self._sessions() as session:
            rows = await OrganizationRepository(session).credentials_by_lookup_key(provider, lookup_key)
        return [(row.organization_id, self._open(row)) for row in rows]

    async def recent(self, provider: str, limit: int) -> list[tuple[str, Values]]:
        """The `limit` most recently updated credentials of a provider, for a bounded search."""
        async with self._sessions() as session:
            rows = await OrganizationRepository(session).recent_credentials(provider, limit)
        return [(row.organization_id, self._open(row)) for row in rows]

    async def twilio(self, organization_id: str) -> TwilioCredentials | None:
        values = await self.get(organization_id, "twilio")
        if not values or not values.get("twilioAccountSid"):
            return None
        has_token = bool(values.get("twilioAuthToken"))
        has_key = bool(values.get("twilioApiKeySid") and values.get("twilioApiKeySecret"))
        if not (has_token or has_key):
            return None
        return TwilioCredentials(
            account_sid=values["twilioAccountSid"],
            auth_token=values.get("twilioAuthToken") or None,
            api_key_sid=values.get("twilioApiKeySid") or None,
            api_key_secret=values.get("twilioApiKeySecret") or None,
            service_sid=values.get("twilioServiceSid") or None,
            delete_after_archive=values.get("twilioDeleteAfterArchive") == "true",
        )

    async def elevenlabs(self, organization_id: str) -> ElevenLabsCredentials | None:
        values = await self.get(organization_id, "elevenlabs")
        if not values:
            return None
        return ElevenLabsCredentials(
            api_key=values.get("elevenlabsApiKey") or None,
            webhook_secret=values.get("elevenlabsWebhookSecret") or None,
        )
