from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from tether_relay.keys import derive_keys, load_keys
from tether_relay.settings import Settings

LONG = "s" * 40


def make(**values: Any) -> Settings:
    return Settings(**values)


def test_defaults_are_the_embedded_development_setup() -> None:
    settings = make()

    assert (settings.host, settings.port, settings.signed_url_ttl_seconds) == ("127.0.0.1", 2212, 600)
    assert settings.database_url == "sqlite+aiosqlite:///./var/tether.db"
    assert settings.development_mode
    assert settings.r2 is None
    assert settings.sinch_s3 is None
    assert settings.base_url == "http://127.0.0.1:2212"


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TETHER_PORT", "9999")
    monkeypatch.setenv("TETHER_DATABASE_URL", "postgresql://postgres@127.0.0.1/tether")
    monkeypatch.setenv("TETHER_R2_ENDPOINT_URL", "https://acct.r2.cloudflarestorage.com")
    monkeypatch.setenv("TETHER_R2_BUCKET", "recordings")
    monkeypatch.setenv("TETHER_R2_ACCESS_KEY_ID", "AKID")
    monkeypatch.setenv("TETHER_R2_SECRET_ACCESS_KEY", "r2-very-private-value")

    settings = Settings()

    assert settings.port == 9999
    assert settings.database_url == "postgresql+asyncpg://postgres@127.0.0.1/tether"
    assert settings.r2 is not None
    assert settings.r2.region == "auto"
    assert "r2-very-private-value" not in repr(settings)


@pytest.mark.parametrize(
    "values",
    [
        {"jwt_secret": "short", "secret_key": LONG},
        {"jwt_secret": LONG},  # production mode without TETHER_SECRET_KEY
        {"jwt_secret": LONG, "secret_key": "short"},
        {"signed_url_ttl_seconds": 0},
        {"signed_url_ttl_seconds": 604_801},
        {"r2_endpoint_url": "https://acct.r2.cloudflarestorage.com"},  # half a bucket
    ],
)
def test_unsafe_or_incomplete_settings_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        make(**values)


def test_keys_are_separate_per_purpose_and_stable() -> None:
    keys = derive_keys("jwt", LONG)

    assert keys == derive_keys("jwt", LONG)
    assert keys.url_signing_key != derive_keys("jwt", LONG + "x").url_signing_key
    assert Fernet(keys.credentials_key).decrypt(Fernet(keys.credentials_key).encrypt(b"x")) == b"x"
    assert keys.url_signing_key not in keys.credentials_key


def test_development_secrets_are_generated_once_and_kept(tmp_path: Path) -> None:
    first = load_keys(make(data_dir=tmp_path))
    second = load_keys(make(data_dir=tmp_path))

    assert first == second
    assert len(first.jwt_secret) >= 32
    assert (tmp_path / "dev-secrets.json").stat().st_mode & 0o077 == 0
