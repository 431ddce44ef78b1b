"""The webhooks, built once with the runtime: each provider's verifier (providers/<vendor>/webhook.py,
which turns a request into our event) and the one applier."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tether_relay.organizations.credentials import CredentialStore
from tether_relay.providers.elevenlabs.webhook import ElevenLabsWebhook
from tether_relay.providers.sinch.webhook import SinchWebhook
from tether_relay.providers.twilio.webhook import TwilioWebhook
from tether_relay.storage.buckets import Buckets
from tether_relay.webhooks.applier import EventApplier
from tether_relay.webhooks.senders import ElevenLabsSenders, signers


@dataclass(frozen=True, slots=True)
class Webhooks:
    elevenlabs: ElevenLabsWebhook
    twilio: TwilioWebhook
    sinch: SinchWebhook
    applier: EventApplier


def build_webhooks(
    sessions: async_sessionmaker[AsyncSession],
    credentials: CredentialStore,
    buckets: Buckets,
    *,
    public_base_url: str,
    max_body_bytes: int,
) -> Webhooks:
    return Webhooks(
        elevenlabs=ElevenLabsWebhook(ElevenLabsSenders(sessions, credentials), max_body_bytes),
        # Twilio signs with the auth token, never an API key.
        twilio=TwilioWebhook(signers(credentials, "twilio", "twilioAuthToken"), public_base_url),
        sinch=SinchWebhook(signers(credentials, "sinch", "sinchApplicationSecret")),
        applier=EventApplier(sessions, buckets),
    )
