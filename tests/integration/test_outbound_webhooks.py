"""Our own events pushed to customers' endpoints, verified by a loopback receiver with the
`standardwebhooks` library itself: registration and its secret, the events of ingest, provider webhooks
and deletion (once per fact), retries with the same `webhook-id` after 500s, a timeout and a 429, a 410
that disables the endpoint, replay, rotation, the delivery log, private URLs refused, and another
organisation's ids answering 404. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import auth, superadmin
from tests.fakes import senders
from tests.fakes.elevenlabs import conversation
from tests.fakes.receiver import Answer, Receiver
from tests.fakes.twilio import TwilioFake, sid
from tests.integration.test_ingest import MP3, payload
from tests.integration.test_webhook_telephony import SINCH_KEY, SINCH_PATH, SINCH_SECRET, sinch_events
from tests.jobs import until
from tether_relay.outbound.models import OutboundEvent
from tether_relay.runtime import Runtime
from tether_relay.storage.buckets import SINCH

ORG = "org-hooks"
RECORDING_HOOK, STATUS_HOOK = "/api/webhook/calls/twilio/recording", "/api/webhook/calls/twilio/status"
OTHER = "org-other"
TRANSCRIPT = [
    {"role": "agent", "message": "Your card number is 4111 1111 1111 1111.", "timestamp": 0.5},
    {"role": "user", "message": "Thanks.", "timestamp": 2.8},
]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "jobs_in_process": True,
        "job_retry_first_seconds": 0.0,
        "webhook_allow_private_urls": True,
        "webhook_retry_schedule": (0.2, 0.2, 0.2),
        "webhook_timeout_seconds": 1.0,
    }


async def register(
    client: httpx.AsyncClient, receiver: Receiver, path: str, org: str = ORG, **fields: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/webhooks/endpoints", json={"url": receiver.url(path), **fields}, headers=auth(org)
    )
    assert response.status_code == 201, response.text
    created = response.json()
    receiver.secrets[path].append(created["secret"])
    return dict(created)


_API_KEYS: dict[tuple[int, str], str] = {}  # shown in full only when created: kept per client


async def ingest(client: httpx.AsyncClient, org: str = ORG, **overrides: Any) -> str:
    if (id(client), org) not in _API_KEYS:
        shown = (await client.get("/api/user/api-key", headers=auth(org))).json()["data"]["apiKey"]
        _API_KEYS[id(client), org] = shown
    api_key = _API_KEYS[id(client), org]
    body = payload(transcript=TRANSCRIPT, recording=base64.b64encode(MP3).decode(), **overrides)
    response = await client.post(
        "/api/calls/ingest",
        content=json.dumps(body),
        headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
    )
    assert response.status_code in (200, 201), response.text
    return str(response.json()["callId"])


async def delivered(client: httpx.AsyncClient, endpoint_id: str) -> str:
    """The id of the endpoint's newest delivery, once its delivery is recorded."""
    url = f"/api/webhooks/endpoints/{endpoint_id}/deliveries"
    found: list[dict[str, Any]] = []

    async def recorded() -> bool:
        found[:] = (await client.get(url, headers=auth(ORG))).json()["deliveries"]
        return bool(found) and found[0]["status"] == "delivered"

    await until(recorded)
    return str(found[0]["id"])


def types(receiver: Receiver, path: str) -> list[str]:
    return sorted(r.type for r in receiver.at(path))


async def test_an_endpoint_is_registered_with_its_secret_shown_once(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    created = await register(client, receiver, "/a", description="billing", events=["call.completed"])
    secret = created["secret"]
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
    endpoint = created["endpoint"]
    assert endpoint["id"].startswith("ep_")
    assert endpoint["enabled"] is True
    assert (endpoint["events"], endpoint["description"]) == (["call.completed"], "billing")
    listed = (await client.get("/api/webhooks/endpoints", headers=auth(ORG))).json()
    assert [e["id"] for e in listed["endpoints"]] == [endpoint["id"]]
    assert secret not in json.dumps(listed)
    assert "secret" not in listed["endpoints"][0]


async def test_ingest_emits_its_events_signed_and_thin(client: httpx.AsyncClient, receiver: Receiver) -> None:
    await register(client, receiver, "/all")
    call_id = await ingest(client)
    await until(lambda: len(receiver.at("/all")) == 3)
    assert types(receiver, "/all") == ["call.completed", "recording.ready", "transcript.ready"]
    for received in receiver.at("/all"):
        assert received.verified_by == tuple(receiver.secrets["/all"])  # standardwebhooks verified it
        assert received.id.startswith("msg_")
        payload = received.payload
        assert set(payload) == {"type", "timestamp", "data"}
        assert payload["data"]["callId"] == call_id
        assert payload["data"]["organizationId"] == ORG
        assert payload["data"]["provider"] == "external"
        assert b"4111" not in received.body
        assert base64.b64encode(MP3)[:40] not in received.body


async def test_an_endpoint_gets_only_the_types_it_asked_for(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    await register(client, receiver, "/calls", events=["call.completed"])
    await register(client, receiver, "/all")
    await ingest(client)
    await until(lambda: len(receiver.at("/all")) == 3)
    await until(lambda: len(receiver.at("/calls")) == 1)
    assert types(receiver, "/calls") == ["call.completed"]


async def test_each_fact_is_one_event_however_often_and_concurrently_it_is_reported(
    client: httpx.AsyncClient, runtime: Runtime, receiver: Receiver, twilio: TwilioFake
) -> None:
    """The recording webhook delivered twice, and three different status webhooks all saying
    "completed", at once: one recording.ready and one call.completed."""
    config = twilio.credentials_config()
    assert (
        await client.post("/api/calls/providers/config", json=config, headers=superadmin(ORG))
    ).status_code == 200
    await register(client, receiver, "/twilio")
    recording = twilio.add_recording(call_sid := sid("CA"), MP3)
    base = {"AccountSid": twilio.account_sid, "CallSid": call_sid}
    recorded = {
        **base,
        "RecordingSid": recording.sid,
        "RecordingStatus": "completed",
        "RecordingDuration": "12",
    }
    webhooks = [(RECORDING_HOOK, recorded)] * 2 + [
        (STATUS_HOOK, {**base, "CallStatus": "completed", "CallDuration": str(seconds)})
        for seconds in (12, 13, 14)
    ]

    async def deliver(path: str, params: dict[str, str]) -> int:
        body, headers = senders.twilio(path, params, twilio.auth_token)
        return (await client.post(path, content=body, headers=headers)).status_code

    assert set(await asyncio.gather(*(deliver(path, params) for path, params in webhooks))) == {200}
    await until(lambda: len(receiver.at("/twilio")) >= 2)
    await asyncio.sleep(1.0)  # time for a duplicate to arrive, were there one
    assert types(receiver, "/twilio") == ["call.completed", "recording.ready"]
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboundEvent)) == 2
    ready = next(r for r in receiver.at("/twilio") if r.type == "recording.ready")
    assert ready.payload["data"]["recordingId"] == recording.sid


async def test_deleting_the_recording_emits_recording_deleted(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    await register(client, receiver, "/deleted", events=["recording.deleted"])
    call_id = await ingest(client)
    response = await client.delete(f"/api/calls/{call_id}/recording", headers=auth(ORG))
    assert response.status_code == 200, response.text
    await until(lambda: len(receiver.at("/deleted")) == 1)
    data = receiver.at("/deleted")[0].payload["data"]
    assert data["callId"] == call_id
    assert data["reason"] == "request"
    assert data["deletedAt"] == response.json()["deletedAt"].replace("+00:00", "Z")


@pytest.mark.parametrize(
    "failures",
    [
        [Answer(500), Answer(503)],
        [Answer(204, delay=2.5)],  # past the 1 s timeout
        [Answer(429, retry_after="1")],
    ],
    ids=["5xx", "timeout", "429"],
)
async def test_a_failed_attempt_is_retried_with_the_same_id(
    client: httpx.AsyncClient, receiver: Receiver, failures: list[Answer]
) -> None:
    created = await register(client, receiver, "/flaky", events=["call.completed"])
    receiver.plan("/flaky", *failures)
    await ingest(client)
    attempts = len(failures) + 1
    await until(lambda: len(receiver.at("/flaky")) == attempts, seconds=20)
    assert len({r.id for r in receiver.at("/flaky")}) == 1
    assert all(r.verified_by for r in receiver.at("/flaky"))
    url = f"/api/webhooks/endpoints/{created['endpoint']['id']}/deliveries"
    log: dict[str, Any] = {}

    async def settled() -> bool:  # the last attempt is recorded just after the receiver answered it
        log.update((await client.get(url, headers=auth(ORG))).json())
        return bool(log["deliveries"][0]["status"] != "pending")

    await until(settled)
    [delivery] = log["deliveries"]
    assert delivery["eventType"] == "call.completed"
    assert delivery["eventId"] == receiver.at("/flaky")[0].id
    assert delivery["status"] == "delivered"
    assert delivery["attemptCount"] == attempts
    first = delivery["attempts"][0]
    if failures[0].delay:
        assert (first["status"], first["error"]) == (None, "timeout")
    else:
        assert (first["status"], first["error"]) == (failures[0].status, f"HTTP {failures[0].status}")
    assert delivery["attempts"][-1]["status"] == 204


async def test_a_delivery_is_given_up_after_the_last_retry(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    created = await register(client, receiver, "/down", events=["call.completed"])
    receiver.plan("/down", *[Answer(500)] * 10)
    await ingest(client)
    await until(lambda: len(receiver.at("/down")) == 4, seconds=20)  # the first, then one per delay
    endpoint_id = created["endpoint"]["id"]

    async def settled() -> bool:
        url = f"/api/webhooks/endpoints/{endpoint_id}/deliveries"
        return bool((await client.get(url, headers=auth(ORG))).json()["deliveries"][0]["status"] == "failed")

    await until(settled)
    assert len(receiver.at("/down")) == 4


@pytest.mark.parametrize(
    "settings_overrides",
    [{"jobs_in_process": True, "webhook_allow_private_urls": True, "webhook_timeout_seconds": 30.0}],
)
async def test_a_stuck_endpoint_holds_one_worker_and_delays_no_other_endpoint(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    """Every request to /stuck hangs until the test lets it go. The four job workers are not all taken by
    it: /healthy gets every one of its events meanwhile, and /stuck never has two attempts at once."""
    await register(client, receiver, "/stuck")
    await register(client, receiver, "/healthy")
    gate = receiver.hold("/stuck")
    for number in range(4):
        await ingest(client, externalCallId=f"call-{number}")
    try:
        await until(lambda: len(receiver.at("/healthy")) == 12, seconds=20)
        assert receiver.at("/stuck") == []
        assert receiver.most_in_flight["/stuck"] == 1
    finally:
        gate.set()
    await until(lambda: len(receiver.at("/stuck")) == 12, seconds=30)
    assert receiver.most_in_flight["/stuck"] == 1
    created = [r.payload["timestamp"] for r in receiver.at("/stuck")]
    assert created == sorted(created)  # in order of creation


async def test_a_410_disables_the_endpoint(client: httpx.AsyncClient, receiver: Receiver) -> None:
    created = await register(client, receiver, "/gone", events=["call.completed"])
    receiver.plan("/gone", Answer(410))
    await ingest(client)
    await until(lambda: len(receiver.at("/gone")) == 1)

    async def disabled() -> bool:
        listed = (await client.get("/api/webhooks/endpoints", headers=auth(ORG))).json()["endpoints"]
        return bool(listed[0]["enabled"] is False and listed[0]["disabledReason"] == "gone")

    await until(disabled)
    await ingest(client, externalCallId="second")
    assert len(receiver.at("/gone")) == 1  # nothing more is sent to it
    metrics = (await client.get("/metrics")).text
    assert 'tether_webhook_endpoints_disabled_total{reason="gone"}' in metrics
    assert created["endpoint"]["id"]


async def test_rotation_signs_with_both_secrets_and_replay_resends_the_same_id(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    created = await register(client, receiver, "/rotating", events=["call.completed"])
    endpoint_id = created["endpoint"]["id"]
    await ingest(client)
    await until(lambda: len(receiver.at("/rotating")) == 1)
    old_secret = created["secret"]

    rotated = (
        await client.post(f"/api/webhooks/endpoints/{endpoint_id}/rotate-secret", headers=auth(ORG))
    ).json()
    new_secret = rotated["secret"]
    assert new_secret != old_secret
    assert new_secret.startswith("whsec_")
    receiver.secrets["/rotating"].append(new_secret)

    delivery_id = await delivered(client, endpoint_id)
    replay = await client.post(f"/api/webhooks/deliveries/{delivery_id}/replay", headers=auth(ORG))
    assert replay.status_code == 202, replay.text
    await until(lambda: len(receiver.at("/rotating")) == 2)
    first, again = receiver.at("/rotating")
    assert again.id == first.id
    assert set(again.verified_by) == {old_secret, new_secret}  # a signature with each, for the overlap
    assert len(again.headers["webhook-signature"].split(" ")) == 2


async def test_rotations_at_once_each_keep_the_secret_the_last_one_made(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    created = await register(client, receiver, "/rotated", events=["call.completed"])
    endpoint_id = created["endpoint"]["id"]

    answers = await asyncio.gather(
        *(
            client.post(f"/api/webhooks/endpoints/{endpoint_id}/rotate-secret", headers=auth(ORG))
            for _ in range(6)
        )
    )

    secrets = [answer.json()["secret"] for answer in answers]
    receiver.secrets["/rotated"].extend(secrets)
    await ingest(client)
    await until(lambda: len(receiver.at("/rotated")) == 1)
    (delivery,) = receiver.at("/rotated")
    # The current secret and the one it replaced: two of the six, never the original (each rotation
    # replaced the previous one's secret, none was lost).
    assert len(delivery.verified_by) == 2
    assert created["secret"] not in delivery.verified_by


async def test_concurrent_registrations_cannot_pass_the_cap(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    answers = await asyncio.gather(
        *(
            client.post(
                "/api/webhooks/endpoints", json={"url": receiver.url(f"/many/{n}")}, headers=auth(ORG)
            )
            for n in range(30)
        )
    )

    assert sorted(answer.status_code for answer in answers) == [201] * 20 + [409] * 10
    listed = (await client.get("/api/webhooks/endpoints", headers=auth(ORG))).json()["endpoints"]
    assert len(listed) == 20


@pytest.mark.parametrize(
    "settings_overrides",
    [
        {
            "jobs_in_process": True,
            "job_concurrency": 4,
            "webhook_allow_private_urls": True,
            "webhook_timeout_seconds": 30.0,
        }
    ],
)
async def test_one_organisations_stuck_endpoints_never_hold_back_anothers(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    """Four stuck endpoints of one organisation, as many as the job workers: it gets half of them at
    most, and the other organisation's endpoint gets its events meanwhile."""
    gates = []
    for n in range(4):
        await register(client, receiver, f"/stuck/{n}")
        gates.append(receiver.hold(f"/stuck/{n}"))
    await register(client, receiver, "/theirs", org=OTHER)
    await ingest(client)
    await until(lambda: sum(receiver.in_flight.values()) >= 2, seconds=10)
    await ingest(client, org=OTHER)
    try:
        await until(lambda: len(receiver.at("/theirs")) == 3, seconds=20)
        assert sum(receiver.in_flight[f"/stuck/{n}"] for n in range(4)) <= 2
    finally:
        for gate in gates:
            gate.set()
    await until(lambda: sum(len(receiver.at(f"/stuck/{n}")) for n in range(4)) == 12, seconds=60)


@pytest.mark.parametrize("settings_overrides", [{"webhook_allow_private_urls": False}])  # the default
async def test_private_urls_are_refused_unless_allowed(client: httpx.AsyncClient, receiver: Receiver) -> None:
    for url in (receiver.url("/x"), "https://127.0.0.1/x", "https://10.0.0.8/x", "ftp://example.com/x"):
        response = await client.post("/api/webhooks/endpoints", json={"url": url}, headers=auth(ORG))
        assert response.status_code == 400, (url, response.text)
        assert response.json()["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize(
    "body",
    [
        {"url": ""},
        {"url": "x" * 3000},
        {"events": ["call.completed"]},
        {"url": "https://example.com", "events": []},
        {"url": "https://example.com", "events": ["call.exploded"]},
        {"url": "https://example.com", "extra": 1},
    ],
)
async def test_a_bad_registration_is_a_400_in_the_envelope(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await client.post("/api/webhooks/endpoints", json=body, headers=auth(ORG))
    assert response.status_code == 400, response.text
    assert response.json()["success"] is False


async def test_only_admins_manage_endpoints_and_only_their_own(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    created = await register(client, receiver, "/mine")
    endpoint_id = created["endpoint"]["id"]
    member = auth(ORG, role="USER")
    assert (await client.get("/api/webhooks/endpoints", headers=member)).status_code == 403
    assert (
        await client.post("/api/webhooks/endpoints", json={"url": receiver.url("/m")}, headers=member)
    ).status_code == 403
    stranger = auth(OTHER)
    for method, url in (
        ("DELETE", f"/api/webhooks/endpoints/{endpoint_id}"),
        ("POST", f"/api/webhooks/endpoints/{endpoint_id}/rotate-secret"),
        ("GET", f"/api/webhooks/endpoints/{endpoint_id}/deliveries"),
    ):
        response = await client.request(method, url, headers=stranger)
        assert (response.status_code, response.json()["code"]) == (404, "ENDPOINT_NOT_FOUND"), url
    assert (await client.get("/api/webhooks/endpoints", headers=stranger)).json()["endpoints"] == []

    await ingest(client)
    await until(lambda: len(receiver.at("/mine")) == 3)
    log = (await client.get(f"/api/webhooks/endpoints/{endpoint_id}/deliveries", headers=auth(ORG))).json()
    delivery_id = log["deliveries"][0]["id"]
    response = await client.post(f"/api/webhooks/deliveries/{delivery_id}/replay", headers=stranger)
    assert (response.status_code, response.json()["code"]) == (404, "DELIVERY_NOT_FOUND")

    assert (
        await client.delete(f"/api/webhooks/endpoints/{endpoint_id}", headers=auth(ORG))
    ).status_code == 200
    assert (await client.get("/api/webhooks/endpoints", headers=auth(ORG))).json()["endpoints"] == []


async def test_elevenlabs_webhooks_emit_their_events(client: httpx.AsyncClient, receiver: Receiver) -> None:
    secret = "wsec_" + "e" * 40
    assert (
        await client.post(
            "/api/calls/voice-ai/config", headers=superadmin(ORG), json={"elevenlabsWebhookSecret": secret}
        )
    ).status_code == 200
    await register(client, receiver, "/elevenlabs")
    for event in (
        senders.elevenlabs_transcription(conversation("conv_pushed")),
        senders.elevenlabs_audio("conv_pushed", MP3),
    ):
        body, headers = senders.elevenlabs(event, secret)
        assert (
            await client.post("/api/webhook/elevenlabs", content=body, headers=headers)
        ).status_code == 200
    await until(lambda: len(receiver.at("/elevenlabs")) == 3)
    assert types(receiver, "/elevenlabs") == ["call.completed", "recording.ready", "transcript.ready"]
    assert {r.payload["data"]["provider"] for r in receiver.at("/elevenlabs")} == {"elevenlabs"}


async def test_sinch_webhooks_emit_their_events(
    client: httpx.AsyncClient, runtime: Runtime, receiver: Receiver
) -> None:
    config = {"provider": "sinch", "sinchApplicationKey": SINCH_KEY, "sinchApplicationSecret": SINCH_SECRET}
    assert (
        await client.post("/api/calls/providers/config", json=config, headers=superadmin(ORG))
    ).status_code == 200
    await register(client, receiver, "/sinch")
    call_id = "5d2e8a1c-1234-4a62-9a3e-3e0a1d2b7c11"
    stem = f"calls/20260303100005_{SINCH_KEY}_{call_id}"
    store = runtime.buckets.get(SINCH)  # what Sinch wrote into the bucket
    await store.put(f"{stem}.mp3", MP3, "audio/mpeg")
    transcript = {"segments": [{"speaker": "agent", "text": "Hello.", "start": 0.2}]}
    await store.put(f"{stem}-transcript.json", json.dumps(transcript).encode(), "application/json")
    for event in sinch_events(call_id):
        body, headers = senders.sinch(SINCH_PATH, event, SINCH_KEY, SINCH_SECRET)
        assert (await client.post(SINCH_PATH, content=body, headers=headers)).status_code == 200
    # transcript.ready comes from the job that caches the transcript Sinch announced as final.
    await until(lambda: len(receiver.at("/sinch")) == 3)
    assert types(receiver, "/sinch") == ["call.completed", "recording.ready", "transcript.ready"]


@pytest.mark.parametrize("status", ["no-answer", "busy", "failed"])
async def test_a_call_that_did_not_take_place_is_call_failed(
    client: httpx.AsyncClient, receiver: Receiver, twilio: TwilioFake, status: str
) -> None:
    config = twilio.credentials_config()
    assert (
        await client.post("/api/calls/providers/config", json=config, headers=superadmin(ORG))
    ).status_code == 200
    await register(client, receiver, "/failed")
    params = {"AccountSid": twilio.account_sid, "CallSid": sid("CA"), "CallStatus": status}
    body, headers = senders.twilio(STATUS_HOOK, params, twilio.auth_token)
    assert (await client.post(STATUS_HOOK, content=body, headers=headers)).status_code == 200
    await until(lambda: len(receiver.at("/failed")) == 1)
    [failed] = receiver.at("/failed")
    assert failed.type == "call.failed"
    assert failed.payload["data"]["status"] == status


@pytest.mark.parametrize(
    "settings_overrides",
    [
        {
            "jobs_in_process": True,
            "webhook_allow_private_urls": True,
            "webhook_retry_schedule": (0.4,) * 10,
            "webhook_disable_after_seconds": 1.0,  # five days, shortened
        }
    ],
)
async def test_an_endpoint_failing_for_the_whole_period_is_disabled(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    created = await register(client, receiver, "/failing", events=["call.completed"])
    receiver.plan("/failing", *[Answer(500)] * 20)
    await ingest(client)

    async def disabled() -> bool:
        listed = (await client.get("/api/webhooks/endpoints", headers=auth(ORG))).json()["endpoints"]
        return bool(listed[0]["enabled"] is False and listed[0]["disabledReason"] == "failing")

    await until(disabled)
    attempts = len(receiver.at("/failing"))
    assert 3 <= attempts < 11  # stopped well before the schedule ran out
    await asyncio.sleep(1.0)
    assert len(receiver.at("/failing")) == attempts  # and nothing more is sent
    assert created["endpoint"]["id"]
    metrics = (await client.get("/metrics")).text
    assert 'tether_webhook_endpoints_disabled_total{reason="failing"}' in metrics


@pytest.mark.parametrize(
    "body",
    [
        {"url": "http://127.0.0.1:9/a", "description": "nul \x00 here"},
        {"url": "http://127.0.0.1:9/\x00"},
        {"url": "http://127.0.0.1:9/a", "description": "lone \ud800 surrogate"},
    ],
)
async def test_what_storage_cannot_take_is_a_400_not_a_500(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    content = json.dumps(body)  # lone surrogates escaped, as Python clients send them
    response = await client.post(
        "/api/webhooks/endpoints", content=content, headers={**auth(ORG), "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    for method, url in (
        ("GET", "/api/webhooks/endpoints/ep_%00/deliveries"),
        ("POST", "/api/webhooks/endpoints/%00/rotate-secret"),
        ("POST", "/api/webhooks/deliveries/dlv_%00/replay"),
        ("DELETE", "/api/webhooks/endpoints/%ED%A0%80"),
    ):
        answer = await client.request(method, url, headers=auth(ORG))
        assert answer.status_code in (400, 404), (url, answer.text)
