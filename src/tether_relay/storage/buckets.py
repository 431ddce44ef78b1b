"""The service's two logical buckets and which store backs each, decided once from settings."""

from __future__ import annotations

from dataclasses import dataclass

from tether_relay.keys import Keys
from tether_relay.settings import Settings
from tether_relay.storage.base import ObjectStore
from tether_relay.storage.local import LocalStore
from tether_relay.storage.s3 import S3Store

RECORDINGS = "recordings"  # R2: ElevenLabs, external (ingested) and, later, re-hosted audio
SINCH = "sinch"  # the S3 bucket that Sinch records into


def recording_key(organization_id: str, call_id: str, recording_id: str, extension: str) -> str:
    """Where a recording's audio lives inside a bucket: one folder per organisation, then per call."""
    return f"{organization_id}/{call_id}/{recording_id}.{extension}"


@dataclass(frozen=True, slots=True)
class Buckets:
    stores: dict[str, ObjectStore]

    def get(self, name: str) -> ObjectStore:
        return self.stores[name]

    def local(self, name: str) -> LocalStore | None:
        store = self.stores.get(name)
        return store if isinstance(store, LocalStore) else None


def build_buckets(settings: Settings, keys: Keys) -> Buckets:
    def local(name: str) -> LocalStore:
        return LocalStore(name, settings.data_dir / "storage" / name, settings.base_url, keys.url_signing_key)

    r2, sinch = settings.r2, settings.sinch_s3
    return Buckets(
        {
            RECORDINGS: S3Store(RECORDINGS, r2) if r2 else local(RECORDINGS),
            SINCH: S3Store(SINCH, sinch) if sinch else local(SINCH),
        }
    )
