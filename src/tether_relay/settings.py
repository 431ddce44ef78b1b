"""The one settings object, read from `TETHER_*` environment variables.

The variable names are flat (they are documented that way in the README); the groups that the rest of
the code wants (a bucket's four or five settings together) are built by properties, so nothing else
re-assembles them.
"""

from __future__ import annotations

import ipaddress
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tether_relay.db import async_database_url

# S3 and R2 both refuse a presigned URL that lives longer than a week.
MAX_SIGNED_URL_TTL_SECONDS = 604_800


@dataclass(frozen=True, slots=True)
class BucketSettings:
    """Where one S3-compatible bucket is and how to sign for it."""

    endpoint_url: str
    bucket: str
    access_key_id: str
    secret_access_key: SecretStr
    region: str


def guessable(secret: str) -> str | None:
    """Why an operator's secret of 32+ characters is still guessable, or None. Length alone admits 32
    spaces or `"ab" * 16`; so the secret must not be one pattern repeated, and the frequencies of its
    characters must carry 80 bits (random hex of 32 characters carries about 90 at the least, base64
    more; one character repeated carries none)."""
    if _period(secret) <= len(secret) // 2:
        return "is one pattern repeated"
    counts = Counter(secret).values()
    bits = -sum(count * math.log2(count / len(secret)) for count in counts)
    if bits < 80:
        return "repeats too few characters to be a random secret"
    return None


def _period(text: str) -> int:
    """The length of the shortest pattern that `text` repeats (the last repetition may be cut short):
    the length less the longest proper prefix that is also a suffix (the KMP failure function)."""
    border = [0] * len(text)
    for i in range(1, len(text)):
        k = border[i - 1]
        while k and text[i] != text[k]:
            k = border[k - 1]
        border[i] = k + (text[i] == text[k])
    return len(text) - (border[-1] if text else 0)


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine only: `localhost`, 127.0.0.0/8 or ::1. Not 0.0.0.0 or `::`
    (every interface), not any other name (it may resolve anywhere)."""
    host = host.lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    # Exactly these forms: "localhost." is a DNS name (looked up, it may resolve anywhere), and a space or
    # other decoration is a typo to refuse, not to repair.
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TETHER_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=2212, ge=1, le=65535)
    database_url: str = "sqlite+aiosqlite:///./var/tether.db"
    data_dir: Path = Path("./var")
    # Unset means development mode: a generated secret, a demo call, a printed curl line; allowed only
    # when `host` is a loopback address (see `is_loopback`), so a forgotten secret never faces a network.
    jwt_secret: SecretStr | None = None
    secret_key: SecretStr | None = None
    signed_url_ttl_seconds: int = Field(default=600, ge=1, le=MAX_SIGNED_URL_TTL_SECONDS)
    public_base_url: str | None = None
    log_level: str = "info"
    # A client's request headers must arrive within this, and its body keep coming (api/server.py).
    client_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    # Browser origins allowed to call the API and play audio (comma-separated, e.g. a support console).
    cors_origins: str = ""

    # Ingestion and webhooks.
    max_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)  # ingest and audio webhooks
    max_json_body_bytes: int = Field(default=1024 * 1024, ge=1024)  # every other endpoint
    ingest_rate_limit_per_minute: int = Field(default=120, ge=1)
    # Lets ingest download recordings over http and from private addresses (tests, closed networks).
    ingest_allow_private_urls: bool = False
    ingest_download_timeout_seconds: float = Field(default=30.0, gt=0, le=600)

    # Provider APIs. Base URLs are settings so that tests and closed networks can point at fakes.
    twilio_api_base_url: str = "https://api.twilio.com"
    twilio_intelligence_base_url: str = "https://intelligence.twilio.com"
    elevenlabs_api_base_url: str = "https://api.elevenlabs.io"
    provider_timeout_seconds: float = Field(default=15.0, gt=0, le=120)  # connect, and each read
    # One read (a recording read, a playback open) gets this long from its providers up to the first bytes
    # of each answer, every retry included (providers/http.py); a body streamed on past them must keep
    # bringing at least provider_progress_min_bytes in every window instead. 40 s + two 10 s windows:
    # a stalled or dripping provider ends any read within 60 s.
    provider_read_budget_seconds: float = Field(default=40.0, gt=0, le=600)
    provider_progress_min_bytes: int = Field(default=64 * 1024, ge=1)
    provider_progress_window_seconds: float = Field(default=10.0, gt=0, le=600)
    # Twilio may answer 404 for a moment after a recording completes: retry this often, doubling the wait.
    provider_retry_attempts: int = Field(default=3, ge=1, le=10)
    provider_retry_backoff_seconds: float = Field(default=0.5, ge=0, le=30)
    # A provider answer larger than this is refused (a recording is read whole before it is sent inline).
    provider_max_response_bytes: int = Field(default=256 * 1024 * 1024, ge=1024)
    # After this many reads in a row found a provider down, fail fast for the reset period.
    provider_circuit_failures: int = Field(default=5, ge=1)
    provider_circuit_reset_seconds: float = Field(default=30.0, ge=0)
    transcript_retry_seconds: int = Field(default=60, ge=0)
    # How long one reader may hold the right to fetch a call's transcript before another may take over.
    transcript_lease_seconds: int = Field(default=30, ge=1, le=600)
    # Background jobs (jobs/): `serve` runs them too unless this is false (then run `tether-relay worker`).
    jobs_in_process: bool = True
    job_concurrency: int = Field(default=4, ge=1, le=64)
    # A failed job is retried after 5 s, 10 s, 20 s … (at most an hour apart), this many runs in all.
    job_max_attempts: int = Field(default=8, ge=1, le=100)
    job_retry_first_seconds: float = Field(default=5.0, ge=0, le=3600)
    # A job whose worker gave no sign of life for this long (PostgreSQL's heartbeat, SQLite's lease) is
    # given to another worker, or run again by the restarted service.
    job_heartbeat_timeout_seconds: float = Field(default=30.0, ge=1, le=3600)
    # Scheduled jobs, once per period across every replica (0: not scheduled; the CLI commands remain).
    retention_sweep_seconds: int = Field(default=3600, ge=0)
    storage_sweep_seconds: int = Field(default=86400, ge=0)

    # Events pushed to customers' endpoints (outbound/): a failed delivery is tried again after each of
    # these delays in turn (seconds, comma-separated), then given up; an endpoint whose every attempt has
    # failed for webhook_disable_after_seconds (5 days) is disabled.
    webhook_retry_schedule: Annotated[tuple[float, ...], NoDecode] = (5, 300, 1800, 7200, 18000, 36000, 36000)
    webhook_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    webhook_disable_after_seconds: float = Field(default=5 * 86400, gt=0)
    # Lets endpoints be http and on private addresses (tests, closed networks).
    webhook_allow_private_urls: bool = False

    r2_endpoint_url: str | None = None
    r2_bucket: str | None = None
    r2_access_key_id: str | None = None
    r2_secret_access_key: SecretStr | None = None

    sinch_s3_endpoint_url: str | None = None
    sinch_s3_bucket: str | None = None
    sinch_s3_access_key_id: str | None = None
    sinch_s3_secret_access_key: SecretStr | None = None
    sinch_s3_region: str = "us-east-1"

    @field_validator("webhook_retry_schedule", mode="before")
    @classmethod
    def _delays(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            delays = tuple(float(part) for part in value.split(",") if part.strip())
        except ValueError:
            raise ValueError("must be seconds, comma-separated (e.g. 5,300,1800)") from None
        if any(not 0 <= delay <= 86400 for delay in delays):
            raise ValueError("each delay must be between 0 and 86400 seconds")
        return delays

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str) -> str:
        return async_database_url(url)

    @model_validator(mode="after")
    def _production_needs_real_secrets(self) -> Settings:
        for name, secret in (("TETHER_JWT_SECRET", self.jwt_secret), ("TETHER_SECRET_KEY", self.secret_key)):
            if secret is None:
                continue
            if len(secret.get_secret_value()) < 32:
                raise ValueError(f"{name} must be at least 32 characters")
            if (why := guessable(secret.get_secret_value())) is not None:
                raise ValueError(f"{name} {why}: use e.g. `openssl rand -base64 32`")
        shared = self.jwt_secret.get_secret_value() if self.jwt_secret else None
        if (
            shared is not None
            and self.secret_key is not None
            and self.secret_key.get_secret_value() == shared
        ):
            # The JWT secret is shared with whoever mints tokens; the secret key must stay here.
            raise ValueError("TETHER_SECRET_KEY must differ from TETHER_JWT_SECRET")
        if self.jwt_secret is not None and self.secret_key is None:
            raise ValueError("TETHER_SECRET_KEY is required outside development mode")
        if self.development_mode and not is_loopback(self.host):
            raise ValueError(
                f"TETHER_JWT_SECRET is unset (development mode), which listens only on a loopback address, "
                f"and TETHER_HOST is {self.host!r}: set TETHER_JWT_SECRET and TETHER_SECRET_KEY, or "
                "TETHER_HOST=127.0.0.1"
            )
        self._require_whole_bucket(
            "r2", self.r2_endpoint_url, self.r2_bucket, self.r2_access_key_id, self.r2_secret_access_key
        )
        self._require_whole_bucket(
            "sinch_s3",
            self.sinch_s3_endpoint_url,
            self.sinch_s3_bucket,
            self.sinch_s3_access_key_id,
            self.sinch_s3_secret_access_key,
        )
        return self

    @staticmethod
    def _require_whole_bucket(name: str, *parts: object) -> None:
        given = [p is not None for p in parts]
        if any(given) and not all(given):
            raise ValueError(
                f"set all of TETHER_{name.upper()}_ENDPOINT_URL, _BUCKET, _ACCESS_KEY_ID and "
                "_SECRET_ACCESS_KEY, or none of them"
            )

    @property
    def development_mode(self) -> bool:
        return self.jwt_secret is None

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip().rstrip("/") for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def base_url(self) -> str:
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def r2(self) -> BucketSettings | None:
        if self.r2_endpoint_url is None:
            return None
        assert self.r2_bucket and self.r2_access_key_id and self.r2_secret_access_key
        # R2 ignores the region but SigV4 needs one; Cloudflare documents "auto".
        return BucketSettings(
            self.r2_endpoint_url, self.r2_bucket, self.r2_access_key_id, self.r2_secret_access_key, "auto"
        )

    @property
    def sinch_s3(self) -> BucketSettings | None:
        if self.sinch_s3_endpoint_url is None:
            return None
        assert self.sinch_s3_bucket and self.sinch_s3_access_key_id and self.sinch_s3_secret_access_key
        return BucketSettings(
            self.sinch_s3_endpoint_url,
            self.sinch_s3_bucket,
            self.sinch_s3_access_key_id,
            self.sinch_s3_secret_access_key,
            self.sinch_s3_region,
        )
