"""The parsers that see what clients send before anything is checked: for any input they answer or refuse
in their own terms, and never raise anything else (which the app would turn into a 500)."""

from __future__ import annotations

import base64
import math
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from tether_relay.api.types import JsonObject, Moment, StoredText
from tether_relay.digits import parse_uint
from tether_relay.playback import ranges
from tether_relay.providers.elevenlabs import signature as elevenlabs
from tether_relay.providers.errors import InvalidWebhookSignature
from tether_relay.providers.sinch import signature as sinch

digits = st.text("0123456789", min_size=1, max_size=30)
anything = st.one_of(st.text(), digits, st.just("9" * 5000), st.sampled_from(["\u00b2", "\u0661", "-1"]))


@given(anything)
def test_parse_uint_takes_only_short_ascii_digit_strings(text: str) -> None:
    parsed = parse_uint(text)
    if text.isascii() and text.isdigit() and len(text) <= 18:
        assert parsed == int(text)
    else:
        assert parsed is None


@given(st.one_of(anything, st.builds("bytes={}-{}".format, anything, anything)), st.integers(0, 10**12))
def test_a_range_header_is_ignored_served_or_416_whatever_it_says(header: str, size: int) -> None:
    requested = ranges.parse(header)
    if requested is None:
        return
    try:
        served = ranges.resolve(requested, size)
    except ranges.RangeNotSatisfiable:
        return
    assert 0 <= served.start <= served.end < size


@given(st.one_of(anything, st.builds("t={},v0={}".format, anything, anything)))
def test_an_elevenlabs_signature_header_parses_or_is_invalid(header: str) -> None:
    try:
        timestamp, digest = elevenlabs.parse_header(header)
    except InvalidWebhookSignature:
        return
    assert timestamp >= 0
    assert digest.startswith("v0=")


@given(st.text())
def test_sinch_secrets_always_decode(secret: str) -> None:
    sinch.decode_secret(secret)
    sinch.usable_secret(secret)


@given(st.binary(min_size=16, max_size=64))
def test_sinch_secrets_as_issued_are_usable_in_either_alphabet(key: bytes) -> None:
    for encoded in (base64.b64encode(key), base64.urlsafe_b64encode(key), base64.b64encode(key).rstrip(b"=")):
        assert sinch.decode_secret(encoded.decode()) == key
        assert sinch.usable_secret(encoded.decode())


@given(st.one_of(anything, st.datetimes().map(lambda d: d.isoformat() + "+14:00")))
def test_a_sinch_timestamp_is_fresh_or_not(value: str) -> None:
    assert sinch.timestamp_fresh(value, datetime.now(UTC)) in (True, False)


@given(st.text())
def test_stored_text_is_what_a_database_takes(text: str) -> None:
    try:
        stored = TypeAdapter(StoredText).validate_python(text)
    except ValidationError:
        assert "\x00" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text)
        return
    assert "\x00" not in stored
    stored.encode("utf-8")


@given(st.datetimes(timezones=st.timezones()))
def test_moments_are_from_1970_to_2099(moment: datetime) -> None:
    try:
        TypeAdapter(Moment).validate_python(moment)
    except ValidationError:
        assert not datetime(1970, 1, 1, tzinfo=UTC) <= moment < datetime(2100, 1, 1, tzinfo=UTC)


@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    )
)
def test_json_objects_hold_only_finite_storable_values(value: object) -> None:
    try:
        TypeAdapter(JsonObject).validate_python({"v": value})
    except ValidationError:
        return
    assert _finite_and_storable(value)


def _finite_and_storable(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, list):
        return all(_finite_and_storable(v) for v in value)
    if isinstance(value, dict):
        return all(_finite_and_storable(k) and _finite_and_storable(v) for k, v in value.items())
    return True


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "a\x00", {"k\x00": 1}])
def test_json_objects_refuse_what_jsonb_refuses(value: object) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(JsonObject).validate_python({"v": value})
