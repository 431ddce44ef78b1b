"""What `/api/calls/providers/config` and `/api/calls/voice-ai/config` do: save credentials (whole for a
voice provider, partially for voice AI), describe them with every secret masked, and delete them."""

from __future__ import annotations

import secrets
from typing import Any

from tether_relay.organizations.credentials import CredentialStore, Values

VOICE_PROVIDER_FIELDS = {
    "twilio": (
        "phoneNumber",
        "twilioAccountSid",
        "twilioAuthToken",
        "twilioApiKeySid",
        "twilioApiKeySecret",
        "twilioTwimlAppSid",
        "twilioServiceSid",
        "twilioDeleteAfterArchive",
    ),
    "sinch": ("phoneNumber", "sinchApplicationKey", "sinchApplicationSecret"),
}
VOICE_AI_FIELDS = (
    "aiVoiceProvider",
    "elevenlabsApiKey",
    "elevenlabsWebhookSecret",
    "elevenlabsToolSecret",
    "sinchEstKeyId",
    "sinchEstKeySecret",
    "sinchEstProjectId",
    "sinchEstTrunkId",
    "sinchEstTrunkDomain",
)
SECRET_FIELDS = frozenset(
    {
        "twilioAuthToken",
        "twilioApiKeySecret",
        "sinchApplicationSecret",
        "elevenlabsApiKey",
        "elevenlabsWebhookSecret",
        "elevenlabsToolSecret",
        "sinchEstKeySecret",
    }
)
DELETE_AFTER_ARCHIVE = "twilioDeleteAfterArchive"
# Which value a webhook names its sender by, so the sender's organisation is one indexed lookup away.
LOOKUP_FIELD = {"twilio": "twilioAccountSid", "sinch": "sinchApplicationKey"}


def mask(value: str) -> str:
    """Enough to recognise a secret (its last four characters, when it is long), never enough to use it."""
    return "****" + value[-4:] if len(value) >= 16 else "****"


def _described(values: Values) -> dict[str, Any]:
    return {name: mask(value) if name in SECRET_FIELDS else value for name, value in values.items()}


class ProviderConfigService:
    def __init__(self, credentials: CredentialStore) -> None:
        self._credentials = credentials

    async def save_voice_provider(
        self, organization_id: str, provider: str, values: dict[str, str | bool | None]
    ) -> None:
        """Overwrites the provider's configuration with the given fields."""
        kept = {
            name: "true" if value is True else value
            for name, value in values.items()
            if name in VOICE_PROVIDER_FIELDS[provider] and value
        }
        await self._credentials.save(organization_id, provider, kept, lookup_field=LOOKUP_FIELD[provider])

    async def describe_voice_providers(self, organization_id: str) -> dict[str, Any]:
        described: dict[str, Any] = {}
        for provider in VOICE_PROVIDER_FIELDS:
            values = await self._credentials.get(organization_id, provider)
            described[provider] = {"configured": values is not None, **_described(values or {})}
            if provider == "twilio":  # a switch, shown as one whether or not it was ever turned on
                described[provider]["twilioDeleteAfterArchive"] = (values or {}).get(
                    DELETE_AFTER_ARCHIVE
                ) == "true"
        return described

    async def save_voice_ai(
        self, organization_id: str, changes: dict[str, str | None], *, generate_tool_secret: bool
    ) -> str | None:
        """Partial update: a field given as null clears it, a field left out stays. Returns a freshly
        generated tool secret (the only time it is shown in full), if one was asked for."""
        tool_secret = secrets.token_hex(32) if generate_tool_secret else None

        def apply(current: Values | None) -> Values:
            values = dict(current or {})
            for name, value in changes.items():
                if name not in VOICE_AI_FIELDS:
                    continue
                if value is None:
                    values.pop(name, None)
                else:
                    values[name] = value
            if tool_secret is not None:
                values["elevenlabsToolSecret"] = tool_secret
            return values

        # Applied under the organisation's lock: a concurrent partial update of another field is kept.
        await self._credentials.update(organization_id, "elevenlabs", apply)
        return tool_secret

    async def describe_voice_ai(self, organization_id: str) -> dict[str, Any]:
        values = await self._credentials.get(organization_id, "elevenlabs") or {}
        return {
            "aiVoiceProvider": values.get("aiVoiceProvider"),
            "elevenlabsApiKeySet": "elevenlabsApiKey" in values,
            "elevenlabsApiKey": mask(values["elevenlabsApiKey"]) if "elevenlabsApiKey" in values else None,
            "elevenlabsWebhookSecretSet": "elevenlabsWebhookSecret" in values,
            "elevenlabsToolSecretSet": "elevenlabsToolSecret" in values,
            "sinchEstCredentialsSet": bool(values.get("sinchEstKeyId") and values.get("sinchEstKeySecret")),
            "sinchEstProjectId": values.get("sinchEstProjectId"),
            "sinchEstTrunkId": values.get("sinchEstTrunkId"),
            "sinchEstTrunkDomain": values.get("sinchEstTrunkDomain"),
        }

    async def delete(self, organization_id: str, provider: str) -> bool:
        return await self._credentials.delete(organization_id, provider)
