"""Every secret the service uses, derived once at start-up.

Two operator secrets go in: the JWT secret (shared with whoever mints tokens) and `TETHER_SECRET_KEY`.
Separate keys for separate purposes are derived from the latter with HKDF, so a leaked signed URL key
says nothing about the key that encrypts provider credentials. In development mode both secrets are
generated on first start and kept in the data folder, so tokens survive a restart.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tether_relay.files import FILE_MODE, private_dir, write_private
from tether_relay.settings import Settings

DEV_SECRETS_FILE = "dev-secrets.json"


@dataclass(frozen=True, slots=True)
class Keys:
    jwt_secret: str
    credentials_key: bytes  # Fernet key (urlsafe base64 of 32 bytes)
    url_signing_key: bytes
    playback_key: bytes
    webhook_secrets_key: bytes  # Fernet key: seals customers' endpoint signing secrets


def _derive(secret_key: str, purpose: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"tether-relay", info=purpose)
    return hkdf.derive(secret_key.encode())


def derive_keys(jwt_secret: str, secret_key: str) -> Keys:
    return Keys(
        jwt_secret=jwt_secret,
        credentials_key=base64.urlsafe_b64encode(_derive(secret_key, b"provider-credentials/v1")),
        url_signing_key=_derive(secret_key, b"local-storage-urls/v1"),
        playback_key=_derive(secret_key, b"playback-tokens/v1"),
        webhook_secrets_key=base64.urlsafe_b64encode(_derive(secret_key, b"webhook-endpoint-secrets/v1")),
    )


def load_keys(settings: Settings) -> Keys:
    if settings.jwt_secret is not None and settings.secret_key is not None:
        return derive_keys(settings.jwt_secret.get_secret_value(), settings.secret_key.get_secret_value())
    stored = _development_secrets(settings.data_dir / DEV_SECRETS_FILE)
    secret_key = settings.secret_key.get_secret_value() if settings.secret_key else stored["secret_key"]
    return derive_keys(stored["jwt_secret"], secret_key)


def _development_secrets(path: Path) -> dict[str, str]:
    if path.exists():
        path.chmod(FILE_MODE)  # a file written by an older version may be readable by others
        loaded: dict[str, str] = json.loads(path.read_text())
        return loaded
    private_dir(path.parent)
    fresh = {"jwt_secret": secrets.token_urlsafe(48), "secret_key": secrets.token_urlsafe(48)}
    # Two processes may start at once: create exclusively, and read the winner's file if we lost.
    try:
        write_private(path, json.dumps(fresh).encode(), exclusive=True)
    except FileExistsError:
        return _development_secrets(path)
    return fresh
