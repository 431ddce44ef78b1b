"""What may be cached as a transcript is what the recording answer can render (issue 11, class 2):
`checked` is tested against orjson itself, the renderer, on arbitrary JSON-like values."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tether_relay.transcripts.model import UnrenderableTranscript, checked

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=20,
)
utterances = st.lists(
    st.fixed_dictionaries(
        {
            "role": st.sampled_from(["agent", "user"]),
            "message": st.text(max_size=20),
            "timestamp": st.floats(allow_nan=True, allow_infinity=True) | st.integers(-5, 2**66),
        }
    ),
    min_size=1,
    max_size=5,
)


def as_postgresql_gives_it_back(value: Any) -> Any:
    """JSONB keeps numbers as `numeric` and writes them in plain notation: 1e20 comes back as the integer
    100000000000000000000, 1.5e-7 as 0.00000015."""
    if isinstance(value, float) and math.isfinite(value):
        return json.loads(format(Decimal(repr(value)).normalize(), "f"))
    if isinstance(value, dict):
        return {k: as_postgresql_gives_it_back(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_postgresql_gives_it_back(v) for v in value]
    return value


def renders_faithfully(value: Any) -> bool:
    """orjson writes it as stored by either database, and reading it back gives the same value (NaN and
    infinities become null)."""
    try:
        orjson.dumps(as_postgresql_gives_it_back(value))
        return bool(orjson.loads(orjson.dumps(value)) == value)
    except orjson.JSONEncodeError:
        return False


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(max_size=4), values, max_size=5) | st.lists(values, max_size=4))
def test_whatever_is_accepted_renders_and_whatever_does_not_render_is_refused(value: Any) -> None:
    try:
        accepted = checked(value)
    except UnrenderableTranscript:
        return
    assert accepted is value
    assert renders_faithfully(value)


@settings(max_examples=300, deadline=None)
@given(utterances)
def test_utterances_are_kept_exactly_when_every_time_is_exact_and_finite(
    items: list[dict[str, Any]],
) -> None:
    finite = all(math.isfinite(u["timestamp"]) and 0 <= u["timestamp"] <= 2**53 for u in items)
    renderable = renders_faithfully(items)
    if finite and renderable:
        assert checked(items) == items
    else:
        with pytest.raises(UnrenderableTranscript):
            checked(items)


@pytest.mark.parametrize(
    "value",
    [
        {"n": 2**64},
        {"n": 1e20},  # PostgreSQL gives it back as an integer beyond 64 bits
        [{"role": "agent", "message": "x", "timestamp": 2.0**53 + 2}],
        {"n": -(2**63) - 1},
        [{"role": "agent", "message": "x", "timestamp": float("inf")}],
        [{"role": "agent", "message": "x", "timestamp": float("nan")}],
        [{"role": "agent", "message": "x", "timestamp": 1.0, "end": float("inf")}],
        [{"role": "agent", "message": "x", "timestamp": -1.0}],
        [{"role": "agent", "message": "x", "timestamp": 1.0}, {"speaker": "?"}],
        ["not an object"],
        "text",
        {1: "non-string key"},
    ],
)
def test_the_known_unrenderable_shapes_are_refused(value: Any) -> None:
    with pytest.raises(UnrenderableTranscript):
        checked(value)
