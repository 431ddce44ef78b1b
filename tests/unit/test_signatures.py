"""Webhook signature schemes against the providers' published (and locally re-verified) test vectors
from shared/reference/providers.md."""

from __future__ import annotations

import base64

import pytest

from tether_relay.providers.elevenlabs import signature as elevenlabs
from tether_relay.providers.errors import InvalidWebhookSignature, WebhookTimestampRefused
from tether_relay.providers.sinch import signature as sinch
from tether_relay.providers.twilio import signature as twilio

TWILIO_PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+14158675309"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
]


def test_twilio_vector() -> None:
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"

    assert twilio.compute(url, TWILIO_PARAMS, "12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert twilio.compute("https://mycompany.com:443/myapp.php?foo=1&bar=2", TWILIO_PARAMS, "12345") == (
        "kvajT1Ptam85bY51eRf/AJRuM3w="
    )


def test_twilio_accepts_either_port_form() -> None:
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"

    assert twilio.matches(url, TWILIO_PARAMS, "kvajT1Ptam85bY51eRf/AJRuM3w=", "12345")
    assert twilio.matches(url, TWILIO_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345")
    assert not twilio.matches(url, TWILIO_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "54321")
    assert not twilio.matches(url, [*TWILIO_PARAMS, ("Extra", "1")], "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345")


def test_twilio_json_body_vector() -> None:
    url = (
        "https://mycompany.com/myapp.php?foo=1&bar=2"
        "&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
    )

    assert twilio.compute(url, [], "12345") == "a9nBmqA0ju/hNViExpshrM61xv4="


ELEVENLABS_BODY = (
    b'{"type":"post_call_audio","event_timestamp":1739537297,"data":{"agent_id":"agent_1",'
    b'"conversation_id":"conv_1","full_audio":"SUQz"}}'
)


def test_elevenlabs_vector() -> None:
    signature = elevenlabs.sign(ELEVENLABS_BODY, "test_secret", 1739537297)

    assert signature == "v0=10afe222a5c15a6b959776015d8a354f94cb954fddda370e0d13478acf7977d1"
    assert elevenlabs.parse_header(f"v0={signature[3:]},t=1739537297") == (1739537297, signature)
    assert elevenlabs.matches(ELEVENLABS_BODY, signature, "test_secret", 1739537297)
    assert not elevenlabs.matches(ELEVENLABS_BODY + b" ", signature, "test_secret", 1739537297)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "t=abc,v0=00",
        "t=1739537297",
        "v0=00",
        "garbage",
        # a part twice: which one is judged must not be up to the parser
        "t=1739537297,v0=00,v0=10afe222a5c15a6b959776015d8a354f94cb954fddda370e0d13478acf7977d1",
        "t=1,t=1739537297,v0=10afe222a5c15a6b959776015d8a354f94cb954fddda370e0d13478acf7977d1",
    ],
)
def test_elevenlabs_malformed_headers(header: str | None) -> None:
    with pytest.raises(InvalidWebhookSignature):
        elevenlabs.parse_header(header)


@pytest.mark.parametrize(
    ("offset", "ok"), [(0, True), (-1799, True), (-1801, False), (299, True), (301, False)]
)
def test_elevenlabs_window(offset: int, ok: bool) -> None:
    now = 1_800_000_000.0
    if ok:
        elevenlabs.check_timestamp(int(now) + offset, now)
    else:
        with pytest.raises(WebhookTimestampRefused):
            elevenlabs.check_timestamp(int(now) + offset, now)


def test_sinch_callback_vector() -> None:
    body = (
        b'{"event":"ace","callid":"822aa4b7-05b4-4d83-87c7-1f835ee0b6f6_257",'
        b'"timestamp":"2014-09-24T10:59:41Z","version":1}'
    )

    signature = sinch.compute(
        method="POST",
        body=body,
        content_type="application/json",
        timestamp="2014-09-24T10:59:41Z",
        path="/sinch/callback/ace",
        secret="BeIukql3pTKJ8RGL5zo0DA==",
    )

    assert signature == "Tg6fMyo8mj9pYfWQ9ssbx3Tc1BNC87IEygAfLbJqZb4="


def test_sinch_request_vector() -> None:
    signature = sinch.compute(
        method="POST",
        body=b'{"message":"Hello world"}',
        content_type="application/json",
        timestamp="2014-06-04T13:41:58Z",
        path="/v1/sms/+46700000000",
        secret="JViE5vDor0Sw3WllZka15Q==",
    )

    assert signature == "qDXMwzfaxCRS849c/2R0hg0nphgdHciTo7OdM6MsdnM="


def test_sinch_secret_that_is_not_standard_base64_decodes_leniently() -> None:
    # The SDK's own test secret, "app-secret": Node decodes it as urlsafe_b64decode("app-secret==") does.
    assert sinch.decode_secret("app-secret") == base64.urlsafe_b64decode("app-secret==")
    assert sinch.decode_secret("BeIukql3pTKJ8RGL5zo0DA==") == base64.b64decode("BeIukql3pTKJ8RGL5zo0DA==")


def test_sinch_authorization_header() -> None:
    assert sinch.parse_authorization("Application key-1:c2ln") == ("key-1", "c2ln")
    assert sinch.parse_authorization("Basic a2V5OnNlY3JldA==") is None
    assert sinch.parse_authorization("Application nokey") is None
