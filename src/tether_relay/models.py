"""Imports every model so that Base.metadata knows every table (for Alembic and the tests)."""

from tether_relay.apikeys.models import ApiKey, RateLimitHit
from tether_relay.calls.models import Call, CallRedaction, Recording, RecordingDeletion, SearchDocument
from tether_relay.jobs.models import LocalJob, ScheduleRun
from tether_relay.organizations.models import Organization, ProviderCredential
from tether_relay.outbound.models import Delivery, DeliveryAttempt, OutboundEvent, WebhookEndpoint
from tether_relay.webhooks.models import ElevenLabsAgent, WebhookEvent

__all__ = [
    "ApiKey",
    "Call",
    "CallRedaction",
    "Delivery",
    "DeliveryAttempt",
    "ElevenLabsAgent",
    "LocalJob",
    "Organization",
    "OutboundEvent",
    "ProviderCredential",
    "RateLimitHit",
    "Recording",
    "RecordingDeletion",
    "ScheduleRun",
    "SearchDocument",
    "WebhookEndpoint",
    "WebhookEvent",
]
