"""Twilio's callbacks → our events (providers/twilio/webhook.py), with the wire format of
shared/reference/providers.md §1.6 and §1.7: a signed form is one event, a tampered one is refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from tether_relay.errors import ValidationFailed
from tether_relay.providers.errors import InvalidWebhookSignature
from tether_relay.providers.events import (
    CallFacts,
    CallMentioned,
    CallStatusChanged,
    Event,
    RecordingCompleted,
)
from tether_relay.providers.twilio import signature
from tether_relay.providers.twilio.webhook import Callback, TwilioWebhook

BASE = "https://relay.example"
STATUS, RECORDING = "/api/webhook/calls/twilio/status", "/api/webhook/calls/twilio/recording"
ACCOUNT, CALL, REC = (
    "AC11111111111111111111111111111111",
    "CA22222222222222222222222222222222",
    "RE33333333333333333333333333333333",
)
ORG, TOKEN = "org-1", "auth-token-1"
# A StatusCallback's fields (as ElevenLabs forwards them, §2.3) and §1.6's RecordingStatusCallback example.
STATUS_FORM = [
    ("AccountSid", ACCOUNT),
    ("ApiVersion", "2010-04-01"),
    ("CallSid", CALL),
    ("CallStatus", "completed"),
    ("Direction", "outbound-api"),
    ("To", "+15552223333"),
    ("From", "+15550001111"),
    ("SipResponseCode", "200"),
    ("Timestamp", "Tue, 03 Mar 2026 10:05:00 +0000"),
    ("CallDuration", "65"),
    ("Duration", "2"),
]
RECORDING_FORM = [
    ("AccountSid", ACCOUNT),
    ("CallSid", CALL),
    ("RecordingSid", REC),
    ("RecordingUrl", f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{REC}"),
    ("RecordingStatus", "completed"),
    ("RecordingDuration", "65"),
    ("RecordingChannels", "2"),
    ("RecordingStartTime", "Tue, 03 Mar 2026 10:00:04 +0000"),
    ("RecordingSource", "OutboundAPI"),
    ("RecordingTrack", "both"),
    ("ErrorCode", "0"),
]


async def signers(account_sid: str) -> list[tuple[str, str | None]]:
    # An organisation with no auth token (API keys only) names the same account: never a signer.
    return [("org-keys-only", None), (ORG, TOKEN)] if account_sid == ACCOUNT else []


def signed(path: str, form: list[tuple[str, str]], token: str = TOKEN) -> tuple[bytes, str]:
    return urlencode(form).encode(), signature.compute(BASE + path, form, token)


async def receive(callback: Callback, path: str, form: list[tuple[str, str]]) -> Event:
    body, header = signed(path, form)
    return await TwilioWebhook(signers, BASE + "/").receive(callback, body, path, "", header)


async def test_a_status_callback_is_the_call_status_with_its_facts() -> None:
    event = await receive("status", STATUS, STATUS_FORM)

    assert isinstance(event, CallStatusChanged)
    assert (event.provider, event.organization_id, event.provider_call_id) == ("twilio", ORG, CALL)
    assert event.facts == CallFacts(
        status="completed",
        direction="outbound",
        from_number="+15550001111",
        to_number="+15552223333",
        end_time=datetime(2026, 3, 3, 10, 5, tzinfo=UTC),
        duration=65.0,
    )


async def test_an_answered_call_reports_when_it_started_and_was_answered() -> None:
    form = [(k, "in-progress" if k == "CallStatus" else v) for k, v in STATUS_FORM if k != "CallDuration"]

    event = await receive("status", STATUS, form)

    assert isinstance(event, CallStatusChanged)
    at = datetime(2026, 3, 3, 10, 5, tzinfo=UTC)
    assert (event.facts.start_time, event.facts.answer_time, event.facts.end_time) == (at, at, None)
    assert event.facts.duration is None


async def test_a_completed_recording_is_the_provider_held_recording() -> None:
    event = await receive("recording", RECORDING, RECORDING_FORM)

    assert event == RecordingCompleted(
        provider="twilio",
        event_key=event.event_key,
        organization_id=ORG,
        provider_call_id=CALL,
        recording_id=REC,
        duration=65.0,
        channels=2,
        reference_url=dict(RECORDING_FORM)["RecordingUrl"],
    )


async def test_a_recording_not_completed_only_mentions_the_call() -> None:
    form = [(k, "absent" if k == "RecordingStatus" else v) for k, v in RECORDING_FORM]

    assert isinstance(await receive("recording", RECORDING, form), CallMentioned)


async def test_the_event_key_is_the_form_whatever_its_order_and_differs_by_callback() -> None:
    first = await receive("status", STATUS, STATUS_FORM)
    again = await receive("status", STATUS, list(reversed(STATUS_FORM)))
    other = await receive("status", STATUS, [*STATUS_FORM, ("SequenceNumber", "1")])

    assert first.event_key == again.event_key != other.event_key


@pytest.mark.parametrize(
    "tamper",
    [
        lambda body, header: (body.replace(b"completed", b"ringing"), header),  # a value changed
        lambda body, header: (body + b"&Extra=1", header),  # a field added
        lambda body, header: (body, signature.compute(BASE + STATUS, STATUS_FORM, "other-token")),
        lambda body, header: (body.replace(ACCOUNT.encode(), b"AC" + b"9" * 32), header),  # another sender
    ],
)
async def test_a_tampered_request_is_refused(tamper: Callable[[bytes, str], tuple[bytes, str]]) -> None:
    body, header = tamper(*signed(STATUS, STATUS_FORM))

    with pytest.raises(InvalidWebhookSignature):
        await TwilioWebhook(signers, BASE).receive("status", body, STATUS, "", header)


async def test_the_signature_covers_the_url() -> None:
    body, header = signed(STATUS, STATUS_FORM)

    with pytest.raises(InvalidWebhookSignature):
        await TwilioWebhook(signers, BASE).receive("recording", body, RECORDING, "", header)
    with pytest.raises(InvalidWebhookSignature):
        await TwilioWebhook(signers, BASE).receive("status", body, STATUS, "organizationId=x", header)


def test_no_signature_is_refused_before_the_body() -> None:
    with pytest.raises(InvalidWebhookSignature):
        TwilioWebhook.precheck(None)


async def test_a_verified_form_that_is_not_a_status_is_invalid() -> None:
    form = [(k, "sleeping" if k == "CallStatus" else v) for k, v in STATUS_FORM]

    with pytest.raises(ValidationFailed):
        await receive("status", STATUS, form)
