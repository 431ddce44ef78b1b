"""Sinch's callbacks → our events (providers/sinch/webhook.py), with the wire format and test vector of
shared/reference/providers.md §3.3 and §3.4: a signed callback is one event, a tampered one is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.fakes import senders
from tether_relay.errors import ValidationFailed
from tether_relay.providers.errors import InvalidWebhookSignature, WebhookTimestampRefused
from tether_relay.providers.events import (
    CallFacts,
    CallMentioned,
    CallStatusChanged,
    Event,
    RecordingAvailable,
    TranscriptAvailable,
    body_key,
)
from tether_relay.providers.sinch.webhook import SinchSender, SinchWebhook
from tether_relay.storage.buckets import SINCH

KEY, SECRET, ORG = "669E367E-6BBA-48AB-AF15-266871C28135", "BeIukql3pTKJ8RGL5zo0DA==", "org-1"
PATH = "/api/webhook/calls/sinch"
CALL = "4398599d-1234-4a62-9a3e-3e0a1d2b7c11"
RECORDING_FILE = f"calls/20260303100005_{KEY}_{CALL}.mp3"
# §3.4's callback vector.
ACE_BODY = (
    b'{"event":"ace","callid":"822aa4b7-05b4-4d83-87c7-1f835ee0b6f6_257",'
    b'"timestamp":"2014-09-24T10:59:41Z","version":1}'
)
ACE = SinchSender("2014-09-24T10:59:41Z", "Tg6fMyo8mj9pYfWQ9ssbx3Tc1BNC87IEygAfLbJqZb4=", [(ORG, SECRET)])
# §3.3's examples.
DICE = {
    "event": "dice",
    "callid": CALL,
    "timestamp": "2026-03-03T10:01:10Z",
    "reason": "CALLERHANGUP",
    "result": "ANSWERED",
    "version": 1,
    "custom": "customData",
    "debit": {"currencyId": "USD", "amount": 0.0412},
    "userRate": {"currencyId": "USD", "amount": 0.0138},
    "to": {"type": "number", "endpoint": "15552223333"},
    "applicationKey": KEY,
    "duration": 65,
    "from": "15550001111",
}
RECORDING_AVAILABLE = {
    "event": "notify",
    "callid": CALL,
    "version": 1,
    "type": "recording_available",
    "destination": f"s3://rec-bucket/{RECORDING_FILE}",
}


async def signers(application_key: str) -> list[tuple[str, str | None]]:
    # An organisation that configured the key but no secret is never the signer.
    return [("org-no-secret", None), (ORG, SECRET)] if application_key == KEY else []


async def receive(event: dict[str, object]) -> tuple[str, Event]:
    body, headers = senders.sinch(PATH, event, KEY, SECRET)
    webhook = SinchWebhook(signers)
    sender = await webhook.precheck(timestamp=headers["x-timestamp"], authorization=headers["Authorization"])
    return await webhook.receive(sender, body=body, path=PATH, content_type=headers["Content-Type"])


async def test_the_published_vector_is_the_answered_call() -> None:
    name, event = await SinchWebhook(signers).receive(
        ACE, body=ACE_BODY, path="/sinch/callback/ace", content_type="application/json"
    )

    assert name == "ace"
    assert event == CallStatusChanged(
        provider="sinch",
        event_key=body_key(ORG, ACE_BODY),
        organization_id=ORG,
        provider_call_id="822aa4b7-05b4-4d83-87c7-1f835ee0b6f6_257",
        facts=CallFacts(status="in-progress", answer_time=datetime(2014, 9, 24, 10, 59, 41, tzinfo=UTC)),
    )


async def test_a_disconnect_is_the_calls_result_with_its_facts() -> None:
    name, event = await receive(DICE)

    assert name == "dice"
    assert isinstance(event, CallStatusChanged)
    assert event.facts == CallFacts(
        status="completed",
        from_number="+15550001111",
        to_number="+15552223333",
        end_time=datetime(2026, 3, 3, 10, 1, 10, tzinfo=UTC),
        duration=65.0,
    )


async def test_a_recording_in_the_bucket_and_its_transcript_beside_it() -> None:
    transcript = {**RECORDING_AVAILABLE, "type": "transcription_available"}
    transcript["destination"] = f"s3://rec-bucket/{RECORDING_FILE[:-4]}-transcript.json"

    _, recording = await receive(RECORDING_AVAILABLE)
    _, announced = await receive(transcript)

    assert isinstance(recording, RecordingAvailable)
    assert (recording.bucket, recording.key, recording.content_type) == (SINCH, RECORDING_FILE, "audio/mpeg")
    assert isinstance(announced, TranscriptAvailable)
    assert (announced.bucket, announced.key) == (SINCH, f"{RECORDING_FILE[:-4]}-transcript.json")


@pytest.mark.parametrize(
    "event",
    [
        {**RECORDING_AVAILABLE, "type": "recording_finished"},  # not uploaded yet
        # §3.3's SDK example: a bucket that is not the S3 one we read Sinch's recordings from.
        {**RECORDING_AVAILABLE, "destination": "azure://sinchsdk/voice-recordings/my-recording.mp3"},
        {**RECORDING_AVAILABLE, "destination": "s3://rec-bucket/calls/../secrets.mp3"},
    ],
)
async def test_a_notification_of_nothing_we_keep_only_mentions_the_call(event: dict[str, object]) -> None:
    _, parsed = await receive(event)

    assert isinstance(parsed, CallMentioned)
    assert parsed.provider_call_id == CALL


@pytest.mark.parametrize(
    ("body", "sender"),
    [
        (ACE_BODY.replace(b"ace", b"dice"), ACE),  # the body changed
        (ACE_BODY, SinchSender(ACE.timestamp, ACE.signature, [(ORG, "JViE5vDor0Sw3WllZka15Q==")])),
        (ACE_BODY, SinchSender("2014-09-24T10:59:42Z", ACE.signature, ACE.candidates)),  # the timestamp
    ],
)
async def test_a_tampered_callback_is_refused(body: bytes, sender: SinchSender) -> None:
    with pytest.raises(InvalidWebhookSignature):
        await SinchWebhook(signers).receive(
            sender, body=body, path="/sinch/callback/ace", content_type="application/json"
        )


async def test_the_headers_are_checked_before_the_body() -> None:
    webhook = SinchWebhook(signers)
    fresh = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    with pytest.raises(WebhookTimestampRefused):
        await webhook.precheck(timestamp=ACE.timestamp, authorization=f"Application {KEY}:{ACE.signature}")
    with pytest.raises(InvalidWebhookSignature):  # a key no organisation configured
        await webhook.precheck(timestamp=fresh, authorization=f"Application other-key:{ACE.signature}")
    with pytest.raises(InvalidWebhookSignature):
        await webhook.precheck(timestamp=fresh, authorization=None)


async def test_a_verified_body_that_is_no_sinch_event_is_invalid() -> None:
    with pytest.raises(ValidationFailed):
        await receive({**DICE, "event": "pie"})
    with pytest.raises(ValidationFailed):
        await receive({k: v for k, v in DICE.items() if k != "callid"})
