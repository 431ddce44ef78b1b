from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from tether_relay.keys import derive_keys, load_keys
from tether_relay.settings import Settings

LONG = "keys-test-2Wd7Kq4Xz9Lr1Mv6Bc3Tn8Hf0Pg5Js"
OTHER = "keys-other-8Jf3Lq6Vx1Zr4Nb9Tc2Wm7Hd0Kp5Gs"


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
        {"jwt_secret": LONG, "secret_key": LONG},  # the key must not be the secret token minters share
        {"signed_url_ttl_seconds": 0},
        {"signed_url_ttl_seconds": 604_801},
        {"r2_endpoint_url": "https://acct.r2.cloudflarestorage.com"},  # half a bucket
    ],
)
def test_unsafe_or_incomplete_settings_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        make(**values)


@given(
    pattern=st.text(min_size=1, max_size=12).filter(lambda p: p.strip() == p),
    repeats=st.integers(min_value=2, max_value=40),
    which=st.sampled_from(["jwt_secret", "secret_key"]),
)
def test_a_long_secret_that_repeats_a_pattern_is_refused(pattern: str, repeats: int, which: str) -> None:
    """32 spaces, "j" * 40, "ab" * 16: long enough, and guessable."""
    secret = (pattern * repeats * 32)[: max(32, len(pattern) * repeats)]
    values = {"jwt_secret": LONG, "secret_key": OTHER, which: secret}
    with pytest.raises(ValidationError, match=r"pattern repeated|too few characters|at least 32"):
        make(**values)


@pytest.mark.parametrize("secret", [" " * 32, "x" * 40, "ab" * 16, "a" * 31 + "b", "Password" + "1" * 30])
def test_the_obvious_weak_secrets_are_refused(secret: str) -> None:
    with pytest.raises(ValidationError):
        make(jwt_secret=secret, secret_key=LONG)


def test_what_secret_generators_print_is_accepted() -> None:
    for _ in range(2000):
        for secret in (secrets.token_hex(16), secrets.token_urlsafe(24), secrets.token_hex(32)):
            assert make(jwt_secret=secret, secret_key=secrets.token_urlsafe(32)).jwt_secret is not None


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
