"""Utterances' ends where the source gives only starts (transcripts/alignment.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tether_relay.transcripts.alignment import with_ends
from tether_relay.transcripts.model import Utterance

times = st.floats(min_value=0, max_value=3600, allow_nan=False)
utterances = st.lists(
    st.builds(
        lambda start, length, given_end: {
            "role": "agent",
            "message": "x",
            "timestamp": start,
            **({"end": start + length} if given_end else {}),
        },
        times,
        st.floats(min_value=0, max_value=60),
        st.booleans(),
    ),
    max_size=12,
)


@given(utterances, st.one_of(st.none(), times), st.sampled_from([0.0, 1.0]))
def test_every_end_is_at_or_after_its_start_and_given_ends_are_kept(
    items: list[Utterance], duration: float | None, resolution: float
) -> None:
    ended = with_ends(items, duration, resolution)

    assert len(ended) == len(items)
    for original, result in zip(items, ended, strict=True):
        assert {k: v for k, v in result.items() if k != "end"} == {
            k: v for k, v in original.items() if k != "end"
        }
        if "end" in original:
            assert result["end"] == original["end"]
        elif "end" in result:
            assert result["end"] >= result["timestamp"]
            if duration is not None:
                assert result["end"] <= max(duration, result["timestamp"])
        else:
            assert duration is None  # only the last ones of a call of unknown length keep none


def test_a_guessed_end_is_the_next_start_plus_the_resolution_then_the_duration() -> None:
    items: list[Utterance] = [
        {"role": "agent", "message": "a", "timestamp": 0.0},
        {"role": "user", "message": "b", "timestamp": 3.0},
        {"role": "agent", "message": "c", "timestamp": 64.5},
    ]

    assert [u.get("end") for u in with_ends(items, 65.0, resolution=1.0)] == [4.0, 65.0, 65.0]
    assert [u.get("end") for u in with_ends(items, None)] == [3.0, 64.5, None]


def test_an_end_reaches_at_least_its_last_word() -> None:
    item: Utterance = {
        "role": "user",
        "message": "four one",
        "timestamp": 1.0,
        "end": 1.5,
        "words": [{"word": "four", "start": 1.0, "end": 1.4}, {"word": "one", "start": 1.4, "end": 1.9}],
    }

    assert with_ends([item], None)[0]["end"] == 1.9
