"""Credentials never leave their origin (issue 11, class 4). Every provider request that carries a
credential (Twilio's Basic `Authorization` on the 2010 API and Voice Intelligence, ElevenLabs' `xi-api-key`)
is redirected by the fake to a witness server on another origin (another port, plain http): the witness
must never see the credential, under any header, while a redirect within the origin still carries it and
Twilio's media is still fetched from the other host, bare. Once a chain has left the origin the credential
never returns, not even when the foreign host sends the chain back."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import auth
from tests.factories import make_call
from tests.fakes.elevenlabs import ElevenLabsFake
from tests.fakes.faults import FaultPlan
from tests.fakes.twilio import TwilioFake
from tests.fakes.witness import Witness
from tests.integration.test_elevenlabs_and_sinch import configure_elevenlabs
from tests.integration.test_twilio import AUDIO, assert_error, decoded, known_call
from tests.integration.test_twilio import ORG as TWILIO_ORG
from tether_relay.runtime import Runtime

EL_ORG = "org-voice"
REDIRECTS = [301, 302, 303, 307, 308]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"provider_timeout_seconds": 2.0, "provider_circuit_failures": 100}


@dataclass
class Target:
    """One kind of provider request: the fake that answers it, the path it is picked by, how a read
    reaches it, and the secrets it carries."""

    name: str
    path: str
    twilio: bool
    transcript: bool  # a transcript fetch: its failure does not fail the read


TARGETS = [
    Target("twilio-metadata", ".json", twilio=True, transcript=False),
    Target("twilio-media", ".mp3", twilio=True, transcript=False),
    Target("twilio-intelligence", "/v2/Transcripts", twilio=True, transcript=True),
    Target("elevenlabs-conversation", "/conv_", twilio=False, transcript=True),
    Target("elevenlabs-audio", "/audio", twilio=False, transcript=False),
]


async def prepare(
    target: Target,
    client: httpx.AsyncClient,
    runtime: Runtime,
    twilio: TwilioFake,
    elevenlabs: ElevenLabsFake,
) -> tuple[str, str, FaultPlan, str, list[str]]:
    """A call whose read makes `target`'s request: its read URL, org, the fake's plan, base URL, secrets."""
    if target.twilio:
        call, recording = await known_call(client, runtime, twilio, with_service=True)
        twilio.add_intelligence_transcript(recording.sid, [(1, 0.5, 1.0, "Hello.")])
        basic = base64.b64encode(f"{twilio.account_sid}:{twilio.auth_token}".encode()).decode()
        secrets = [twilio.auth_token, basic]
        return f"/api/calls/{call.id}/recording", TWILIO_ORG, twilio.plan, twilio.base_url, secrets
    await configure_elevenlabs(client, elevenlabs)
    elevenlabs.add("conv_home", audio=AUDIO)
    stored = None if target.name == "elevenlabs-audio" else AUDIO
    call = await make_call(
        runtime,
        EL_ORG,
        provider="elevenlabs",
        provider_call_id="conv_home",
        audio=stored,
        transcription_data=None,
    )
    return (
        f"/api/calls/{call.id}/recording",
        EL_ORG,
        elevenlabs.plan,
        elevenlabs.base_url,
        [elevenlabs.api_key],
    )


def assert_no_credential(witness: Witness, secrets: list[str]) -> None:
    assert witness.seen, "the redirect was not followed to the witness"
    for headers in witness.seen:
        assert "authorization" not in headers
        assert "xi-api-key" not in headers
        for value in headers.values():
            assert not any(secret in value for secret in secrets), headers


@pytest.mark.parametrize("status", REDIRECTS)
@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
async def test_a_redirect_to_another_origin_never_carries_the_credential(
    client: httpx.AsyncClient,
    runtime: Runtime,
    twilio: TwilioFake,
    elevenlabs: ElevenLabsFake,
    witness: Witness,
    target: Target,
    status: int,
) -> None:
    url, org, plan, _, secrets = await prepare(target, client, runtime, twilio, elevenlabs)
    witness.body = AUDIO  # as signed storage would answer
    plan.add("redirect", path_contains=target.path, to=witness.base_url, status=status)

    response = await client.get(url, headers=auth(org))

    assert_no_credential(witness, secrets)
    if target.name == "twilio-media":  # Twilio's media on signed storage: still fetched, bare
        assert decoded(response.json()) == AUDIO


@pytest.mark.parametrize("status", REDIRECTS)
@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
async def test_a_redirect_within_the_origin_still_carries_the_credential(
    client: httpx.AsyncClient,
    runtime: Runtime,
    twilio: TwilioFake,
    elevenlabs: ElevenLabsFake,
    witness: Witness,
    target: Target,
    status: int,
) -> None:
    url, org, plan, home, _ = await prepare(target, client, runtime, twilio, elevenlabs)
    plan.add("redirect", path_contains=target.path, to=home, status=status)

    response = await client.get(url, headers=auth(org))

    assert response.status_code == 200, response.text[:300]  # the fake refuses a request without it
    assert response.json()["transcriptionStatus"] == "ready"
    assert plan.count(target.path) >= 2  # the redirect, then the authorised request


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
async def test_once_a_chain_left_the_origin_the_credential_never_returns(
    client: httpx.AsyncClient,
    runtime: Runtime,
    twilio: TwilioFake,
    elevenlabs: ElevenLabsFake,
    witness: Witness,
    target: Target,
) -> None:
    url, org, plan, home, secrets = await prepare(target, client, runtime, twilio, elevenlabs)
    witness.then = home  # the foreign host sends the chain back to the provider's own origin
    plan.add("redirect", path_contains=target.path, to=witness.base_url, status=302)

    response = await client.get(url, headers=auth(org))

    assert_no_credential(witness, secrets)
    # Back home without the credential, the provider refuses: the read fails (or its transcript does).
    if target.transcript:
        assert response.json()["transcriptionStatus"] == "failed"
    else:
        assert_error(response, 500, "PROVIDER_AUTH_FAILED")


async def test_an_endless_redirect_chain_is_a_fetch_failure(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    call, _ = await known_call(client, runtime, twilio)
    twilio.plan.add("redirect", times=100, path_contains=".mp3", to=twilio.base_url)

    response = await client.get(f"/api/calls/{call.id}/recording", headers=auth(TWILIO_ORG))

    assert_error(response, 500, "RECORDING_FETCH_FAILED")
