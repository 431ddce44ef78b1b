"""The webhook handlers, built once with the runtime."""

from __future__ import annotations

from dataclasses import dataclass

from tether_relay.webhooks.elevenlabs import ElevenLabsWebhooks
from tether_relay.webhooks.sinch import SinchWebhooks
from tether_relay.webhooks.twilio import TwilioWebhooks


@dataclass(frozen=True, slots=True)
class Webhooks:
    elevenlabs: ElevenLabsWebhooks
    twilio: TwilioWebhooks
    sinch: SinchWebhooks
