"""POST /api/webhook/elevenlabs: signed events create one call with audio and transcript, in any order and
however often they arrive; anything unsigned, stale, foreign or malformed is refused and stores nothing."""

from __future__ import annotations

import asyncio
import base64
import itertools
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import auth, superadmin
from tests.fakes import senders
from tests.fakes.elevenlabs import ElevenLabsFake, conversation
from tether_relay.calls.models import Call, Recording
from tether_relay.providers.elevenlabs import signature as elevenlabs_signature
from tether_relay.runtime import Runtime
from tether_relay.webhooks.models import ElevenLabsAgent, WebhookEvent

ORG, OTHER = "org-el", "org-el-other"
SECRET, OTHER_SECRET = "wsec_" + "a" * 40, "wsec_" + "b" * 40
AUDIO = b"ID3\x04" + bytes(range(256)) * 30
URL = "/api/webhook/elevenlabs"


@pytest.fixture
async def configured(client: httpx.AsyncClient) -> None:
    for org, secret in ((ORG, SECRET), (OTHER, OTHER_SECRET)):
        response = await client.post(
            "/api/calls/voice-ai/config", headers=superadmin(org), json={"elevenlabsWebhookSecret": secret}
        )
        assert response.status_code == 200


async def send(
    client: httpx.AsyncClient, event: dict[str, Any], secret: str = SECRET, **kw: Any
) -> httpx.Response:
    body, headers = senders.elevenlabs(event, secret, **kw)
    return await client.post(URL, content=body, headers=headers)


async def count(runtime: Runtime, model: Any) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def events(conversation_id: str) -> list[dict[str, Any]]:
    return [
        senders.elevenlabs_transcription(conversation(conversation_id, direction="outbound")),
        senders.elevenlabs_audio(conversation_id, AUDIO),
    ]


@pytest.mark.usefixtures("configured")
@pytest.mark.parametrize(
    "order", list(itertools.permutations(range(2))), ids=["transcript-first", "audio-first"]
)
async def test_both_events_in_either_order_twice_make_one_readable_call(
    client: httpx.AsyncClient, runtime: Runtime, elevenlabs: ElevenLabsFake, order: tuple[int, ...]
) -> None:
    sequence = [events("conv_both")[i] for i in order]
    responses = [await send(client, e) for e in sequence + sequence[::-1]]

    assert {r.status_code for r in responses} == {200}
    call_ids = {r.json()["callId"] for r in responses}
    assert len(call_ids) == 1
    assert responses[0].json()["received"] is True
    assert await count(runtime, Call) == 1
    assert await count(runtime, Recording) == 1
    recording = (await client.get(f"/api/calls/{call_ids.pop()}/recording", headers=auth(ORG))).json()
    assert (await client.get(recording["audioUrl"])).content == AUDIO
    assert recording["transcriptionText"].startswith("Agent: Hi, how can I help?")
    assert (recording["direction"], recording["from"], recording["to"]) == (
        "outbound",
        "+15550001111",
        "+15552223333",
    )
    assert recording["duration"] == 65
    assert elevenlabs.plan.count() == 0  # everything came by webhook
    assert len(list((runtime.settings.data_dir / "storage" / "recordings").rglob("*.mp3"))) == 1


@pytest.mark.usefixtures("configured")
async def test_concurrent_duplicate_deliveries_store_once(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    responses = await asyncio.gather(*(send(client, e) for e in events("conv_race") * 3))

    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["callId"] for r in responses}) == 1
    assert await count(runtime, Recording) == 1
    assert await count(runtime, WebhookEvent) == 2


@pytest.mark.usefixtures("configured")
async def test_audio_alone_is_readable_and_the_rest_is_fetched_on_first_read(
    client: httpx.AsyncClient, runtime: Runtime, elevenlabs: ElevenLabsFake
) -> None:
    await client.post(
        "/api/calls/voice-ai/config", headers=superadmin(ORG), json={"elevenlabsApiKey": elevenlabs.api_key}
    )
    elevenlabs.add("conv_audio_only", direction="inbound")
    call_id = (await send(client, senders.elevenlabs_audio("conv_audio_only", AUDIO))).json()["callId"]

    recording = (await client.get(f"/api/calls/{call_id}/recording", headers=auth(ORG))).json()

    assert (await client.get(recording["audioUrl"])).content == AUDIO
    assert recording["transcriptionText"].startswith("Agent: Hi, how can I help?")
    assert recording["from"] == "+15552223333"
    assert elevenlabs.plan.count() == 1


@pytest.mark.usefixtures("configured")
async def test_call_initiation_failure_records_the_failed_call(client: httpx.AsyncClient) -> None:
    event = {
        "type": "call_initiation_failure",
        "event_timestamp": int(time.time()),
        "data": {
            "agent_id": "agent_01jabc",
            "conversation_id": "conv_fail",
            "failure_reason": "no-answer",
            "metadata": {
                "type": "twilio",
                "body": {
                    "CallSid": "CA" + "9" * 32,
                    "CallStatus": "no-answer",
                    "Direction": "outbound-api",
                    "To": "+15552223333",
                    "From": "+15550001111",
                },
            },
        },
    }

    call_id = (await send(client, event)).json()["callId"]

    call = (await client.get(f"/api/calls/{call_id}", headers=auth(ORG))).json()["call"]
    assert (call["status"], call["direction"], call["from"], call["to"]) == (
        "no-answer",
        "outbound",
        "+15550001111",
        "+15552223333",
    )
    recording = await client.get(f"/api/calls/{call_id}/recording", headers=auth(ORG))
    assert recording.json()["code"] == "ELEVENLABS_CREDENTIALS_MISSING"


@pytest.mark.usefixtures("configured")
async def test_each_organisation_gets_its_own_events(client: httpx.AsyncClient) -> None:
    mine = (await send(client, senders.elevenlabs_audio("conv_mine", AUDIO, agent_id="agent_a"))).json()
    theirs = (
        await send(
            client, senders.elevenlabs_audio("conv_theirs", AUDIO, agent_id="agent_b"), secret=OTHER_SECRET
        )
    ).json()

    assert (await client.get(f"/api/calls/{mine['callId']}", headers=auth(ORG))).status_code == 200
    assert (await client.get(f"/api/calls/{theirs['callId']}", headers=auth(ORG))).status_code == 404
    assert (await client.get(f"/api/calls/{theirs['callId']}", headers=auth(OTHER))).status_code == 200


def refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["success"] is False
    assert response.json()["code"] == code


@pytest.mark.usefixtures("configured")
async def test_bad_deliveries_are_refused_and_store_nothing(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    good = senders.elevenlabs_audio("conv_bad", AUDIO)
    body, headers = senders.elevenlabs(good, SECRET)

    refused(
        await client.post(URL, content=body, headers={"Content-Type": "application/json"}),
        401,
        "INVALID_SIGNATURE",
    )
    refused(await send(client, good, secret="wsec_not_anyones_" + "c" * 30), 401, "INVALID_SIGNATURE")
    refused(await client.post(URL, content=body + b" ", headers=headers), 401, "INVALID_SIGNATURE")
    refused(await send(client, good, at=int(time.time()) - 31 * 60), 401, "STALE_WEBHOOK")
    refused(await send(client, good, at=int(time.time()) + 6 * 60), 401, "STALE_WEBHOOK")
    refused(
        await client.post(URL + "?organizationId=" + OTHER, content=body, headers=headers),
        401,
        "INVALID_SIGNATURE",
    )
    for malformed in (
        {"type": "post_call_audio", "data": {"conversation_id": "c"}},
        {"type": "something_else", "data": {"conversation_id": "c"}},
        {"type": "post_call_audio", "data": {"agent_id": "a"}},
        {"type": "post_call_audio", "data": {"conversation_id": "c", "full_audio": "%%%"}},
    ):
        refused(await send(client, malformed), 400, "VALIDATION_ERROR")
    now = int(time.time())
    not_json = b'{"agent_id": "agent_01jabc", nope'
    signed = {"ElevenLabs-Signature": f"t={now},{elevenlabs_signature.sign(not_json, SECRET, now)}"}
    refused(await client.post(URL, content=not_json, headers=signed), 400, "VALIDATION_ERROR")

    assert await count(runtime, Call) == 0
    assert await count(runtime, WebhookEvent) == 0
    assert not list((runtime.settings.data_dir / "storage").rglob("*.mp3"))


@pytest.mark.parametrize(
    "header",
    [
        "t=" + "9" * 5000 + ",v0=ab",  # more digits than int() parses
        "t=\u00b2,v0=ab",  # "²".isdigit() is True
        "t={now},v0=\u00e9\u00e9",  # compare_digest refuses non-ASCII str
        "t=,v0=",
        "v0=ab,v0=cd,t=-5",
    ],
)
@pytest.mark.usefixtures("configured")
async def test_a_malformed_signature_header_is_401(
    client: httpx.AsyncClient, runtime: Runtime, header: str
) -> None:
    body, _ = senders.elevenlabs(senders.elevenlabs_audio("conv_bad", AUDIO), SECRET)
    signature = header.format(now=int(time.time())).encode("latin-1")
    headers = {b"ElevenLabs-Signature": signature, b"Content-Type": b"application/json"}

    response = await client.post(URL, content=body, headers=headers)

    assert response.status_code == 401, response.text
    assert await count(runtime, Call) == 0


@pytest.mark.usefixtures("configured")
async def test_organisation_hint_and_learnt_agents(client: httpx.AsyncClient, runtime: Runtime) -> None:
    first = await send(client, senders.elevenlabs_audio("conv_hint", AUDIO, agent_id="agent_hint"))
    body, headers = senders.elevenlabs(
        senders.elevenlabs_audio("conv_hint2", AUDIO, agent_id="agent_hint"), SECRET
    )
    hinted = await client.post(URL + f"?organizationId={ORG}", content=body, headers=headers)

    assert first.status_code == hinted.status_code == 200
    async with runtime.sessions() as session:
        learnt = await session.get(ElevenLabsAgent, "agent_hint")
    assert learnt is not None
    assert learnt.organization_id == ORG


async def test_audio_bigger_than_the_cap_is_413(client: httpx.AsyncClient, runtime: Runtime) -> None:
    huge = base64.b64encode(b"\x00" * (runtime.settings.max_json_body_bytes * 2)).decode()
    event = {"type": "post_call_audio", "data": {"agent_id": "a", "conversation_id": "c", "full_audio": huge}}
    body, headers = senders.elevenlabs(event, SECRET)

    small_cap = await client.post(
        "/api/calls/voice-ai/config", content=body, headers={**headers, **superadmin(ORG)}
    )
    audio_route = await client.post(URL, content=body, headers=headers)

    assert small_cap.status_code == 413
    assert audio_route.status_code == 401  # allowed in by size (64 MiB cap), refused by signature
