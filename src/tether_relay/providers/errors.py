"""Errors at the provider boundary. Each keeps the provider's name and upstream status for the logs and
maps to one stable code for the response; no vendor text, URL or credential reaches either."""

from __future__ import annotations

from tether_relay.errors import AppError


class ProviderError(AppError):
    def __init__(self, provider: str, upstream_status: int | None = None, message: str | None = None) -> None:
        super().__init__(message)
        self.provider = provider
        self.upstream_status = upstream_status

    def __str__(self) -> str:
        return f"{self.code} from {self.provider} (upstream status {self.upstream_status})"


class ProviderAuthFailed(ProviderError):
    status_code = 500
    code = "PROVIDER_AUTH_FAILED"
    message = "The provider rejected this organisation's credentials"


class RecordingFetchFailed(ProviderError):
    status_code = 500
    code = "RECORDING_FETCH_FAILED"
    message = "Failed to fetch the recording from the provider"


class ProviderResponseTooLarge(RecordingFetchFailed):
    """The provider answered with more than TETHER_PROVIDER_MAX_RESPONSE_BYTES: not retried, and not a
    sign that the provider is down."""


class TwilioCredentialsMissing(AppError):
    status_code = 400
    code = "TWILIO_CREDENTIALS_MISSING"
    message = "Twilio credentials are not configured for this organisation"


class ElevenLabsCredentialsMissing(AppError):
    status_code = 400
    code = "ELEVENLABS_CREDENTIALS_MISSING"
    message = "The ElevenLabs API key is not configured for this organisation"


class InvalidWebhookSignature(AppError):
    """Missing, malformed or wrong signature, or a sender we do not know: the same answer for all."""

    status_code = 401
    code = "INVALID_SIGNATURE"
    message = "Webhook signature is missing or invalid"


class WebhookTimestampRefused(AppError):
    status_code = 401
    code = "STALE_WEBHOOK"
    message = "Webhook timestamp is outside the accepted window"
