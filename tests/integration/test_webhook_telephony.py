"""Twilio status/recording webhooks and the Sinch callback: signed events create one call, in any order
and however often; unsigned, stale, foreign or malformed ones are refused and store nothing. End to end,
the webhooks make a call whose recording endpoint serves audio and transcript."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import auth, superadmin
from tests.fakes import senders
from tests.fakes.twilio import TwilioFake, sid
from tether_relay.calls.models import Call, Recording
from tether_relay.runtime import Runtime
from tether_relay.storage.buckets import SINCH
from tether_relay.webhooks.models import WebhookEvent

ORG = "org-tel"
AUDIO = b"ID3\x04" + bytes(range(256)) * 16
STATUS, RECORDING = "/api/webhook/calls/twilio/status", "/api/webhook/calls/twilio/recording"
SINCH_PATH = "/api/webhook/calls/sinch"
SINCH_KEY, SINCH_SECRET = "669E367E-6BBA-48AB-AF15-266871C28135", "BeIukql3pTKJ8RGL5zo0DA=="


async def count(runtime: Runtime, model: Any) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["success"] is False
    assert response.json()["code"] == code


# -- Twilio ---------------------------------------------------------------------------------------------


@pytest.fixture
async def twilio_org(client: httpx.AsyncClient, twilio: TwilioFake) -> TwilioFake:
    body = twilio.credentials_config(with_service=True)
    assert (
        await client.post("/api/calls/providers/config", json=body, headers=superadmin(ORG))
    ).status_code == 200
    return twilio


def twilio_events(twilio: TwilioFake, call_sid: str, recording_sid: str) -> list[tuple[str, dict[str, str]]]:
    base = {"AccountSid": twilio.account_sid, "CallSid": call_sid}
    status = {
        **base,
        "From": "+15552223333",
        "To": "+15550001111",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
    }
    return [
        (STATUS, {**status, "CallStatus": "ringing", "Timestamp": "Tue, 03 Mar 2026 10:00:00 +0000"}),
        (STATUS, {**status, "CallStatus": "in-progress", "Timestamp": "Tue, 03 Mar 2026 10:00:04 +0000"}),
        (
            RECORDING,
            {
                **base,
                "RecordingSid": recording_sid,
                "RecordingStatus": "completed",
                "RecordingDuration": "65",
                "RecordingChannels": "2",
                "RecordingSource": "DialVerb",
                "RecordingUrl": f"https://evil.example/{recording_sid}",
            },
        ),
        (
            STATUS,
            {
                **status,
                "CallStatus": "completed",
                "CallDuration": "66",
                "Timestamp": "Tue, 03 Mar 2026 10:01:10 +0000",
            },
        ),
    ]


async def post_twilio(
    client: httpx.AsyncClient, path: str, params: dict[str, str], token: str
) -> httpx.Response:
    body, headers = senders.twilio(path, params, token)
    return await client.post(path, content=body, headers=headers)


@pytest.mark.parametrize("order", ["in order", "reversed"])
async def test_twilio_webhooks_twice_in_any_order_make_one_call_that_plays(
    client: httpx.AsyncClient, runtime: Runtime, twilio_org: TwilioFake, order: str
) -> None:
    twilio = twilio_org
    call_sid = sid("CA")
    recording = twilio.add_recording(call_sid, AUDIO)
    twilio.add_intelligence_transcript(
        recording.sid, [(1, 0.4, 1.5, "Hi, I need help."), (2, 2.0, 3.0, "Sure.")]
    )
    sequence = twilio_events(twilio, call_sid, recording.sid)
    sequence = sequence if order == "in order" else sequence[::-1]

    responses = [await post_twilio(client, path, params, twilio.auth_token) for path, params in sequence * 2]

    assert {(r.status_code, r.text) for r in responses} == {(200, "OK")}
    assert await count(runtime, Call) == 1
    assert await count(runtime, Recording) == 1
    async with runtime.sessions() as session:
        call = (await session.scalars(select(Call))).one()
    assert (call.status, call.direction, call.duration) == ("completed", "inbound", 66.0)
    assert call.answer_time == datetime(2026, 3, 3, 10, 0, 4, tzinfo=UTC)
    body = (await client.get(f"/api/calls/{call.id}/recording", headers=auth(ORG))).json()
    assert base64.b64decode(body["audioData"].split(",", 1)[1]) == AUDIO
    assert (body["recordingId"], body["duration"]) == (recording.sid, 65.0)
    assert body["transcriptionText"] == "User: Hi, I need help.\nAgent: Sure."
    assert "evil.example" not in str(twilio.plan.requests)  # the RecordingUrl is never fetched


async def test_twilio_refusals_store_nothing(
    client: httpx.AsyncClient, runtime: Runtime, twilio_org: TwilioFake
) -> None:
    twilio = twilio_org
    _, params = twilio_events(twilio, sid("CA"), sid("RE"))[0]
    body, headers = senders.twilio(STATUS, params, twilio.auth_token)

    refused(
        await client.post(STATUS, content=body, headers={"Content-Type": headers["Content-Type"]}),
        401,
        "INVALID_SIGNATURE",
    )
    refused(await post_twilio(client, STATUS, params, "wrong-token"), 401, "INVALID_SIGNATURE")
    refused(await client.post(STATUS, content=body + b"&Extra=1", headers=headers), 401, "INVALID_SIGNATURE")
    refused(await client.post(STATUS + "?x=1", content=body, headers=headers), 401, "INVALID_SIGNATURE")
    foreign = {**params, "AccountSid": sid("AC")}  # an account no organisation configured
    refused(await post_twilio(client, STATUS, foreign, twilio.auth_token), 401, "INVALID_SIGNATURE")
    refused(
        await post_twilio(client, STATUS, {**params, "CallStatus": "exploded"}, twilio.auth_token),
        400,
        "VALIDATION_ERROR",
    )
    refused(
        await post_twilio(client, STATUS, {**params, "CallSid": "CA-not-a-sid"}, twilio.auth_token),
        400,
        "VALIDATION_ERROR",
    )
    refused(
        await post_twilio(client, RECORDING, {**params, "RecordingSid": "nope"}, twilio.auth_token),
        400,
        "VALIDATION_ERROR",
    )

    assert await count(runtime, Call) == 0
    assert await count(runtime, WebhookEvent) == 0


@pytest.mark.parametrize("signature", ["\u00e9" * 28, "", "=" * 5000])
async def test_a_malformed_twilio_signature_is_401(
    client: httpx.AsyncClient, runtime: Runtime, twilio_org: TwilioFake, signature: str
) -> None:
    _, params = twilio_events(twilio_org, sid("CA"), sid("RE"))[0]
    body, headers = senders.twilio(STATUS, params, twilio_org.auth_token)
    sent = {k.encode(): v.encode("latin-1") for k, v in {**headers, "X-Twilio-Signature": signature}.items()}

    refused(await client.post(STATUS, content=body, headers=sent), 401, "INVALID_SIGNATURE")
    assert await count(runtime, Call) == 0


async def test_twilio_values_that_do_not_fit_are_left_out_not_a_500(
    client: httpx.AsyncClient, runtime: Runtime, twilio_org: TwilioFake
) -> None:
    ringing, _, recorded, completed = twilio_events(twilio_org, sid("CA"), sid("RE"))
    odd = {
        "From": "sip:" + "a" * 40 + "@example.sip.twilio.com",
        "Timestamp": "Fri, 31 Dec 9999 23:00:00 -1200",
    }
    deliveries = [
        (ringing[0], {**ringing[1], **odd}),
        (
            recorded[0],
            {
                **recorded[1],
                "RecordingDuration": "9" * 5000,
                "RecordingChannels": "\u00b2",
                "RecordingUrl": "https://x/" + "a" * 2000,
            },
        ),
        (completed[0], {**completed[1], "CallDuration": "\u00b2"}),
    ]

    responses = [
        await post_twilio(client, path, params, twilio_org.auth_token) for path, params in deliveries
    ]

    assert [r.status_code for r in responses] == [200] * 3, [r.text for r in responses]
    async with runtime.sessions() as session:
        call = (await session.scalars(select(Call))).one()
        recording = (await session.scalars(select(Recording))).one()
    # The SIP address did not fit; the completed event's own From did.
    assert (call.from_number, call.start_time, call.duration) == ("+15552223333", None, None)
    assert (recording.duration, recording.channels, recording.reference_url) == (None, None, None)


async def test_twilio_api_key_only_organisations_cannot_be_verified(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    await client.post(
        "/api/calls/providers/config", json=twilio.credentials_config(api_key=True), headers=superadmin(ORG)
    )
    _, params = twilio_events(twilio, sid("CA"), sid("RE"))[0]

    refused(await post_twilio(client, STATUS, params, twilio.auth_token), 401, "INVALID_SIGNATURE")


# -- Sinch ----------------------------------------------------------------------------------------------


@pytest.fixture
async def sinch_org(client: httpx.AsyncClient) -> None:
    body = {"provider": "sinch", "sinchApplicationKey": SINCH_KEY, "sinchApplicationSecret": SINCH_SECRET}
    assert (
        await client.post("/api/calls/providers/config", json=body, headers=superadmin(ORG))
    ).status_code == 200


async def post_sinch(
    client: httpx.AsyncClient,
    event: dict[str, Any],
    secret: str = SINCH_SECRET,
    key: str = SINCH_KEY,
    **kw: Any,
) -> httpx.Response:
    body, headers = senders.sinch(SINCH_PATH, event, key, secret, **kw)
    return await client.post(SINCH_PATH, content=body, headers=headers)


@pytest.mark.parametrize("stored", ["a", "!", "abcde", "=", "ä" * 8])
async def test_a_stored_sinch_secret_that_is_not_base64_is_401_never_500(
    client: httpx.AsyncClient, runtime: Runtime, stored: str
) -> None:
    # Stored before the config API refused such secrets; the signature code must still answer.
    values = {"sinchApplicationKey": SINCH_KEY, "sinchApplicationSecret": stored}
    await runtime.credentials.save(ORG, "sinch", values, lookup_field="sinchApplicationKey")

    refused(await post_sinch(client, sinch_events("c-bad-secret")[0]), 401, "INVALID_SIGNATURE")


@pytest.mark.parametrize(
    "timestamp", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-13-01T00:00:00Z", "²"]
)
async def test_a_sinch_timestamp_outside_the_calendar_is_refused(
    client: httpx.AsyncClient, sinch_org: None, timestamp: str
) -> None:
    body, headers = senders.sinch(SINCH_PATH, sinch_events("c-time")[0], SINCH_KEY, SINCH_SECRET)
    sent = {k.encode(): v.encode("latin-1") for k, v in {**headers, "x-timestamp": timestamp}.items()}
    response = await client.post(SINCH_PATH, content=body, headers=sent)

    assert response.status_code in (400, 401), response.text
    assert response.json()["success"] is False


def sinch_events(call_id: str) -> list[dict[str, Any]]:
    stem = f"calls/20260303100005_{SINCH_KEY}_{call_id}"
    return [
        {
            "event": "ice",
            "callid": call_id,
            "timestamp": "2026-03-03T10:00:00Z",
            "version": 1,
            "cli": "15552223333",
            "to": {"type": "did", "endpoint": "+15550001111"},
            "domain": "pstn",
            "applicationKey": SINCH_KEY,
        },
        {"event": "ace", "callid": call_id, "timestamp": "2026-03-03T10:00:05Z", "version": 1},
        {
            "event": "dice",
            "callid": call_id,
            "timestamp": "2026-03-03T10:01:10Z",
            "reason": "CALLERHANGUP",
            "result": "ANSWERED",
            "version": 1,
            "duration": 65,
            "from": "15552223333",
            "to": {"type": "number", "endpoint": "15550001111"},
            "applicationKey": SINCH_KEY,
        },
        {
            "event": "notify",
            "callid": call_id,
            "version": 1,
            "type": "recording_available",
            "destination": f"s3://rec-bucket/{stem}.mp3",
        },
        {
            "event": "notify",
            "callid": call_id,
            "version": 1,
            "type": "transcription_available",
            "destination": f"s3://rec-bucket/{stem}-transcript.json",
        },
    ]


@pytest.mark.usefixtures("sinch_org")
@pytest.mark.parametrize("order", ["in order", "reversed"])
async def test_sinch_events_twice_in_any_order_make_one_call_that_plays(
    client: httpx.AsyncClient, runtime: Runtime, order: str
) -> None:
    sequence = sinch_events("4398599d-1234-4a62-9a3e-3e0a1d2b7c11")
    stem = f"calls/20260303100005_{SINCH_KEY}_4398599d-1234-4a62-9a3e-3e0a1d2b7c11"
    store = runtime.buckets.get(SINCH)  # what Sinch wrote into the bucket
    await store.put(f"{stem}.mp3", AUDIO, "audio/mpeg")
    transcript = {"segments": [{"speaker": "agent", "text": "Hello.", "start": 0.2}]}
    await store.put(f"{stem}-transcript.json", json.dumps(transcript).encode(), "application/json")
    sequence = sequence if order == "in order" else sequence[::-1]

    responses = [await post_sinch(client, event) for event in sequence * 2]

    assert {r.status_code for r in responses} == {200}
    ice = next(r for r, e in zip(responses, sequence * 2, strict=True) if e["event"] == "ice")
    assert ice.json() == {"instructions": [], "action": {"name": "continue"}}
    assert await count(runtime, Call) == 1
    assert await count(runtime, Recording) == 1
    async with runtime.sessions() as session:
        call = (await session.scalars(select(Call))).one()
    assert (call.status, call.duration, call.from_number, call.to_number) == (
        "completed",
        65.0,
        "+15552223333",
        "+15550001111",
    )
    body = (await client.get(f"/api/calls/{call.id}/recording", headers=auth(ORG))).json()
    assert (await client.get(body["audioUrl"])).content == AUDIO
    assert body["transcriptionText"] == "Agent: Hello."


@pytest.mark.usefixtures("sinch_org")
async def test_sinch_values_that_do_not_fit_are_left_out_not_a_500(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    ice, _, dice, *_ = sinch_events("c-odd")
    late = "9999-12-31T23:00:00-12:00"
    deliveries = [
        {**ice, "timestamp": late, "cli": "1" * 40},
        {**dice, "timestamp": late, "duration": 10**400, "from": "+" + "2" * 40},
    ]

    responses = [await post_sinch(client, event) for event in deliveries]

    assert [r.status_code for r in responses] == [200] * 2, [r.text for r in responses]
    async with runtime.sessions() as session:
        call = (await session.scalars(select(Call))).one()
    assert (call.from_number, call.start_time, call.end_time, call.duration) == (None, None, None, None)


@pytest.mark.usefixtures("sinch_org")
async def test_sinch_refusals_store_nothing(client: httpx.AsyncClient, runtime: Runtime) -> None:
    event = sinch_events("call-refused")[0]
    body, headers = senders.sinch(SINCH_PATH, event, SINCH_KEY, SINCH_SECRET)

    refused(
        await client.post(SINCH_PATH, content=body, headers={"Content-Type": "application/json"}),
        401,
        "INVALID_SIGNATURE",
    )
    refused(
        await post_sinch(client, event, secret="c2VjcmV0LW9mLXNvbWVib2R5LWVsc2U="), 401, "INVALID_SIGNATURE"
    )
    refused(await post_sinch(client, event, key="unknown-application"), 401, "INVALID_SIGNATURE")
    refused(await client.post(SINCH_PATH, content=body + b" ", headers=headers), 401, "INVALID_SIGNATURE")
    refused(
        await post_sinch(client, event, at=datetime.now(UTC) - timedelta(minutes=11)), 401, "STALE_WEBHOOK"
    )
    refused(await post_sinch(client, {"event": "ice"}), 400, "VALIDATION_ERROR")
    refused(await post_sinch(client, {"event": "party", "callid": "x"}), 400, "VALIDATION_ERROR")

    assert await count(runtime, Call) == 0
    assert await count(runtime, WebhookEvent) == 0
