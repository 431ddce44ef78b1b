"""Provider credentials per organisation: voice providers (Twilio, Sinch) and voice AI (ElevenLabs)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from tether_relay.api.deps import CurrentPrincipal, ProviderConfigDep, SuperAdmin, TargetOrganization
from tether_relay.api.errors import error_responses
from tether_relay.api.late_body import documented_body, validated_body
from tether_relay.api.types import E164, ProviderId, Secret
from tether_relay.providers.sinch import signature

router = APIRouter(tags=["Calls"])


def _sid(prefix: str) -> Any:
    return Field(
        None, pattern=rf"^{prefix}[0-9a-fA-F]{{32}}$", description=f"`{prefix}…` SID (34 characters)"
    )


def _usable_sinch_secret(secret: str) -> str:
    if not signature.usable_secret(secret):
        raise ValueError(
            f"must be the base64 application secret Sinch issued ({signature.MIN_SECRET_BYTES} bytes)"
        )
    return secret


SinchSecret = Annotated[Secret, AfterValidator(_usable_sinch_secret)]


class VoiceProviderConfig(BaseModel):
    """Overwrites that provider's configuration. Twilio needs the account SID and either its auth token or an
    API key pair; Sinch needs the application key and secret."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    provider: Literal["twilio", "sinch"]
    phoneNumber: E164 | None = None
    twilioAccountSid: str | None = _sid("AC")
    twilioAuthToken: Secret | None = None
    twilioApiKeySid: str | None = _sid("SK")
    twilioApiKeySecret: Secret | None = None
    twilioTwimlAppSid: str | None = _sid("AP")
    twilioServiceSid: str | None = _sid("GA")
    twilioDeleteAfterArchive: bool = Field(
        False,
        description="Delete Twilio's copy of each recording once our archived copy is verified (Twilio bills "
        "storage). Off unless sent as true with the rest of the configuration.",
    )
    sinchApplicationKey: ProviderId | None = None
    sinchApplicationSecret: SinchSecret | None = None

    @model_validator(mode="after")
    def _complete(self) -> VoiceProviderConfig:
        if self.provider == "twilio":
            if not self.twilioAccountSid:
                raise ValueError("twilioAccountSid is required for twilio")
            if not self.twilioAuthToken and not (self.twilioApiKeySid and self.twilioApiKeySecret):
                raise ValueError("twilio needs twilioAuthToken, or twilioApiKeySid with twilioApiKeySecret")
        elif not (self.sinchApplicationKey and self.sinchApplicationSecret):
            raise ValueError("sinch needs sinchApplicationKey and sinchApplicationSecret")
        return self


class VoiceAiConfig(BaseModel):
    """Partial update: fields left out are kept, fields sent as null are cleared."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    aiVoiceProvider: Literal["elevenlabs"] | None = None
    elevenlabsApiKey: Secret | None = None
    elevenlabsWebhookSecret: Secret | None = None
    generateToolSecret: bool = False
    sinchEstKeyId: ProviderId | None = None
    sinchEstKeySecret: Secret | None = None
    sinchEstProjectId: ProviderId | None = None
    sinchEstTrunkId: ProviderId | None = None
    sinchEstTrunkDomain: ProviderId | None = None


class Saved(BaseModel):
    success: Literal[True]
    message: str
    organizationId: str
    elevenlabsToolSecret: str | None = Field(
        None, description="Shown once, when generateToolSecret was true."
    )


class VoiceProvidersDescribed(BaseModel):
    model_config = ConfigDict(extra="allow")

    success: Literal[True]
    organizationId: str
    providers: dict[str, dict[str, Any]]


class VoiceAiDescribed(BaseModel):
    model_config = ConfigDict(extra="allow")

    success: Literal[True]
    organizationId: str


class Deleted(BaseModel):
    success: Literal[True]
    message: str
    deleted: bool


WRITE_ERRORS = error_responses(400, 401, 403)


@router.post(
    "/api/calls/providers/config",
    response_model=Saved,
    responses=WRITE_ERRORS,
    summary="Save voice provider configuration (superadmin)",
    openapi_extra=documented_body(VoiceProviderConfig),
)
async def save_voice_provider_config(
    request: Request, _admin: SuperAdmin, organization_id: TargetOrganization, config: ProviderConfigDep
) -> Saved:
    """Overwrites the Twilio or Sinch credentials of the organisation; secrets are encrypted at rest."""
    body = await validated_body(request, VoiceProviderConfig)  # read once the token was checked
    await config.save_voice_provider(organization_id, body.provider, body.model_dump(exclude={"provider"}))
    return Saved(success=True, message="Configuration saved", organizationId=organization_id)


@router.get(
    "/api/calls/providers/config",
    response_model=VoiceProvidersDescribed,
    responses=WRITE_ERRORS,
    summary="Get voice provider configuration, secrets masked (superadmin)",
)
async def get_voice_provider_config(
    _admin: SuperAdmin, organization_id: TargetOrganization, config: ProviderConfigDep
) -> VoiceProvidersDescribed:
    """What is configured for Twilio and Sinch, every secret masked."""
    described = await config.describe_voice_providers(organization_id)
    return VoiceProvidersDescribed(success=True, organizationId=organization_id, providers=described)


@router.delete(
    "/api/calls/providers/config/{provider}",
    response_model=Deleted,
    responses=WRITE_ERRORS,
    summary="Remove a provider's credentials (superadmin)",
)
async def delete_provider_config(
    provider: Annotated[Literal["twilio", "sinch", "elevenlabs"], Path()],
    _admin: SuperAdmin,
    organization_id: TargetOrganization,
    config: ProviderConfigDep,
) -> Deleted:
    """Removes the credentials; `deleted` says whether there were any."""
    deleted = await config.delete(organization_id, provider)
    return Deleted(success=True, message=f"{provider} configuration removed", deleted=deleted)


@router.post(
    "/api/calls/voice-ai/config",
    response_model=Saved,
    responses=WRITE_ERRORS,
    summary="Save voice AI configuration (superadmin)",
    openapi_extra=documented_body(VoiceAiConfig),
)
async def save_voice_ai_config(
    request: Request, _admin: SuperAdmin, organization_id: TargetOrganization, config: ProviderConfigDep
) -> Saved:
    """Partial update of the ElevenLabs (and Sinch EST) settings."""
    body = await validated_body(request, VoiceAiConfig)  # read once the token was checked
    changes = body.model_dump(exclude_unset=True, exclude={"generateToolSecret"})
    tool_secret = await config.save_voice_ai(
        organization_id, changes, generate_tool_secret=body.generateToolSecret
    )
    return Saved(
        success=True,
        message="Configuration saved",
        organizationId=organization_id,
        elevenlabsToolSecret=tool_secret,
    )


@router.get(
    "/api/calls/voice-ai/config",
    response_model=VoiceAiDescribed,
    responses=error_responses(400, 401, 403),
    summary="Get voice AI configuration (booleans and masks)",
)
async def get_voice_ai_config(
    _member: CurrentPrincipal, organization_id: TargetOrganization, config: ProviderConfigDep
) -> VoiceAiDescribed:
    """Open to any member: it shows only whether things are set, and masked values."""
    return VoiceAiDescribed(
        success=True, organizationId=organization_id, **await config.describe_voice_ai(organization_id)
    )
