"""Fuzzing what the OpenAPI document does not describe, so schemathesis never sends it: Range and
If-None-Match on the playback proxy, the signed-URL parameters of the local media route, the webhook
signature headers (ElevenLabs-Signature, X-Twilio-Signature, Sinch's x-timestamp and
`Authorization: Application …`), bearer tokens, and mangled path and query values: huge, negative,
non-ASCII, other scripts' digits, dates outside the calendar. Against the real service on loopback, on
SQLite and PostgreSQL; nothing a client sends may be a 5xx."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import TABLES, auth, postgres_admin, superadmin
from tests.factories import AUDIO
from tests.fakes.twilio import sid
from tests.processes import service_env, service_process

# Starts service processes, browsers or long runs: `make test` skips it; CI and `make test-all` run it.
pytestmark = pytest.mark.slow

EXAMPLES = 120
SINCH_KEY, SINCH_SECRET = "669E367E-6BBA-48AB-AF15-266871C28135", "BeIukql3pTKJ8RGL5zo0DA=="
EL_SECRET, TWILIO_TOKEN = "wsec_" + "f" * 40, "0123456789abcdef0123456789abcdef"

# Header values must be latin-1 without control characters to be sent at all.
_LATIN1 = st.characters(codec="latin-1", exclude_categories=["Cc"])
NASTY = [
    "9" * 5000,
    "1" * 19,
    "-1",
    "-0",
    "\u00b2",
    "\u00bd",
    "0x10",
    "1e9",
    "NaN",
    "Infinity",
    "",
    " ",
    "*",
    "=" * 64,
    "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:00:00+01:00",
    "\u00ff" * 40,
]
value = st.one_of(
    st.sampled_from(NASTY),
    st.integers(-(10**30), 10**30).map(str),
    st.text(_LATIN1, max_size=40),
)
# Paths and query strings are percent-encoded, so they can carry what headers cannot (NUL: PostgreSQL).
in_url = st.one_of(value, st.sampled_from(["\x00", "a\x00b", "x" * 5000]), st.text(max_size=80))
ranges = st.one_of(
    value,
    st.builds(lambda a, b: f"bytes={a}-{b}", value, value),
    st.builds(lambda a: f"bytes=-{a}", value),
    st.builds(lambda a, b: f"bytes={a}-,{b}", value, value),
)


@dataclass(frozen=True)
class Target:
    http: httpx.Client
    call_id: str
    media_path: str
    media_params: dict[str, str]


def _latin1(headers: dict[str, str]) -> dict[bytes, bytes]:
    # h11 refuses to send leading or trailing whitespace.
    return {name.encode(): text.strip(" \t").encode("latin-1") for name, text in headers.items()}


def _no_5xx(response: httpx.Response) -> None:
    assert response.status_code < 500, f"{response.request.method} {response.request.url}: {response.text}"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    workdir: Path = tmp_path_factory.mktemp(f"headers-{request.param}")
    if request.param == "sqlite":
        database = f"sqlite:///{workdir}/var/t.db"
    else:
        database = request.getfixturevalue("postgres_database")
        postgres_admin(f"TRUNCATE {TABLES} CASCADE", database)
    env = service_env(database, workdir / "var", log_level="warning")
    with service_process(env, workdir, "headers") as service, httpx.Client(base_url=service.url) as http:
        yield _prepare(http)


def _prepare(http: httpx.Client) -> Target:
    """A call with stored audio, and every provider configured for the fuzzed organisation."""
    key = http.get("/api/user/api-key", headers=auth("org-fuzz")).json()["data"]["apiKey"]
    ingest = {
        "direction": "inbound",
        "fromNumber": "+14165550100",
        "toNumber": "+14165550199",
        "duration": 5,
        "status": "completed",
        "transcript": [{"role": "agent", "message": "Hello", "timestamp": 0}],
        "summary": "s",
        "recording": base64.b64encode(AUDIO).decode(),
    }
    call_id = http.post("/api/calls/ingest", json=ingest, headers={"Authorization": f"Bearer {key}"}).json()[
        "callId"
    ]
    recording = http.get(f"/api/calls/{call_id}/recording", headers=auth("org-fuzz")).json()
    media = httpx.URL(recording["audioUrl"])
    configs = [
        (
            "/api/calls/providers/config",
            {"provider": "twilio", "twilioAccountSid": sid("AC"), "twilioAuthToken": TWILIO_TOKEN},
        ),
        (
            "/api/calls/providers/config",
            {"provider": "sinch", "sinchApplicationKey": SINCH_KEY, "sinchApplicationSecret": SINCH_SECRET},
        ),
        ("/api/calls/voice-ai/config", {"elevenlabsWebhookSecret": EL_SECRET}),
    ]
    for path, body in configs:
        assert http.post(path, json=body, headers=superadmin("org-fuzz")).status_code == 200
    return Target(http, call_id, media.path, dict(media.params))


def _fuzz(**given_kwargs: Any) -> Callable[[Callable[..., None]], Callable[[], None]]:
    def decorate(test: Callable[..., None]) -> Callable[[], None]:
        run: Callable[[], None] = settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )(given(**given_kwargs)(test))
        return run

    return decorate


def test_playback_range_if_none_match_and_token(target: Target) -> None:
    url = f"/api/calls/{target.call_id}/recording/audio"

    @_fuzz(range_=ranges, etag=value, token=st.one_of(st.none(), value))
    def holds(range_: str, etag: str, token: str | None) -> None:
        headers = {"Range": range_, "If-None-Match": etag}
        if token is None:
            headers |= auth("org-fuzz")
        response = target.http.get(url, params={"token": token} if token else None, headers=_latin1(headers))
        _no_5xx(response)

    holds()


def test_media_signed_url_parameters_and_range(target: Target) -> None:
    real = target.media_params

    @_fuzz(
        expires=st.one_of(st.just(real["expires"]), value),
        signature=st.one_of(st.just(real["signature"]), value),
        range_=ranges,
        suffix=st.one_of(st.just(""), in_url.map(lambda t: quote(t, safe=""))),
    )
    def holds(expires: str, signature: str, range_: str, suffix: str) -> None:
        params = {"expires": expires, "signature": signature}
        response = target.http.get(
            target.media_path + suffix, params=params, headers=_latin1({"Range": range_})
        )
        _no_5xx(response)

    holds()


def test_webhook_signature_headers(target: Target) -> None:
    body = json.dumps({"type": "post_call_transcription", "data": {"conversation_id": "c"}}).encode()

    @_fuzz(
        el_t=st.one_of(st.just(str(int(time.time()))), value),
        el_v0=value,
        twilio_signature=value,
        sinch_timestamp=value,
        sinch_auth=st.one_of(value, value.map(lambda v: f"Application {SINCH_KEY}:{v}")),
        raw=st.one_of(st.just(body), st.binary(max_size=200)),
    )
    def holds(
        el_t: str, el_v0: str, twilio_signature: str, sinch_timestamp: str, sinch_auth: str, raw: bytes
    ) -> None:
        deliveries = [
            (
                "/api/webhook/elevenlabs",
                {"ElevenLabs-Signature": f"t={el_t},v0={el_v0}", "Content-Type": "application/json"},
            ),
            (
                "/api/webhook/calls/twilio/status",
                {"X-Twilio-Signature": twilio_signature, "Content-Type": "application/x-www-form-urlencoded"},
            ),
            (
                "/api/webhook/calls/sinch",
                {
                    "Authorization": sinch_auth,
                    "x-timestamp": sinch_timestamp,
                    "Content-Type": "application/json",
                },
            ),
        ]
        for path, headers in deliveries:
            _no_5xx(target.http.post(path, content=raw, headers=_latin1(headers)))

    holds()


def test_credentials_and_identifiers_anywhere(target: Target) -> None:
    @_fuzz(bearer=value, call_id=in_url, organization=in_url, page=in_url)
    def holds(bearer: str, call_id: str, organization: str, page: str) -> None:
        quoted = quote(call_id, safe="") or "x"
        sent = _latin1({"Authorization": f"Bearer {bearer}"})
        _no_5xx(target.http.get(f"/api/calls/{quoted}", headers=sent))
        _no_5xx(target.http.get(f"/api/calls/{quoted}/recording", headers=auth("org-fuzz")))
        _no_5xx(target.http.get(f"/api/calls/{quoted}/recording/audio", headers=auth("org-fuzz")))
        _no_5xx(target.http.get(f"/player/{quoted}"))
        params = {"limit": page, "offset": page, "status": organization, "organizationId": organization}
        _no_5xx(target.http.get("/api/calls/history", params=params, headers=superadmin("org-fuzz")))
        _no_5xx(target.http.get("/api/calls/voice-ai/config", params=params, headers=superadmin("org-fuzz")))
        _no_5xx(target.http.post("/api/calls/ingest", content=b"{}", headers=sent))

    holds()
