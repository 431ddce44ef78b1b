"""Endpoint signing secrets: `whsec_` + base64 of 32 random bytes (the Standard Webhooks form), shown to the
customer once and kept sealed with a key derived for this alone (keys.py). During a rotation the previous
secret signs too, for a day, so a receiver can switch over at its own pace."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta

from cryptography.fernet import Fernet
from standardwebhooks.webhooks import Webhook

from tether_relay.outbound.models import WebhookEndpoint

ROTATION_OVERLAP = timedelta(hours=24)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class Seals:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        return self._fernet.decrypt(sealed.encode()).decode()

    def signers(self, endpoint: WebhookEndpoint, now: datetime) -> list[Webhook]:
        """The current secret's signer, and the previous one's while the rotation overlaps."""
        sealed = [endpoint.secret]
        if (
            endpoint.previous_secret
            and endpoint.previous_secret_until
            and now < endpoint.previous_secret_until
        ):
            sealed.append(endpoint.previous_secret)
        return [Webhook(self.open(one)) for one in sealed]


def signature(signers: list[Webhook], message_id: str, at: datetime, body: str) -> str:
    """The `webhook-signature` header: `v1,<base64>` for each secret, space-separated."""
    return " ".join(signer.sign(message_id, at, body) for signer in signers)
