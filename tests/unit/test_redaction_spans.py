"""Span arithmetic (redaction/spans.py): padding, the edges of the file, overlaps; word times where the
words match the text, else the whole utterance; and the words of a redacted utterance."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from tether_relay.redaction.detect import ENTITIES, Found, find
from tether_relay.redaction.plan import plan
from tether_relay.redaction.spans import PADDING_SECONDS, Span, muted
from tether_relay.redaction.text import redact_utterance
from tether_relay.transcripts.model import Utterance

seconds = st.floats(min_value=0, max_value=600, allow_nan=False)
spans = st.lists(
    st.builds(lambda a, b: Span(min(a, b), max(a, b), "US_SSN", 0), seconds, seconds), max_size=20
)


@given(spans)
def test_the_muted_stretches_are_sorted_apart_and_cover_exactly_the_spans(items: list[Span]) -> None:
    stretches = muted(items)

    assert all(a[1] < b[0] for a, b in itertools.pairwise(stretches))
    assert all(any(s <= span.start and span.end <= e for s, e in stretches) for span in items)
    # nothing muted that no span asked for: each stretch starts and ends at some span's edge
    assert all(
        any(s == span.start for span in items) and any(e == span.end for span in items) for s, e in stretches
    )


def timed(message: str, start: float, step: float = 0.5) -> Utterance:
    words = message.split()
    return {
        "role": "user",
        "message": message,
        "timestamp": start,
        "end": start + step * len(words),
        "words": [
            {"word": w, "start": start + i * step, "end": start + (i + 1) * step} for i, w in enumerate(words)
        ],
    }


@given(st.floats(min_value=0, max_value=100), st.floats(min_value=0.05, max_value=2), st.integers(0, 5))
def test_a_span_is_its_words_padded_and_within_the_file(start: float, step: float, before: int) -> None:
    filler = " ".join(["well"] * before)
    utterance = timed(f"{filler} my ssn is 123 45 6789 ok".strip(), start, step)
    duration = utterance["end"] + 1.0

    (span,) = plan([utterance], ENTITIES, duration).spans

    first_word = before + 3  # "123"
    assert span.entity == "US_SSN"
    assert span.start == max(0.0, start + first_word * step - PADDING_SECONDS)
    assert span.end == min(duration, start + (first_word + 3) * step + PADDING_SECONDS)


def test_at_the_edges_of_the_file_the_padding_stops_at_the_edges() -> None:
    utterance = timed("123-45-6789", 0.05, step=1.0)

    (span,) = plan([utterance], ENTITIES, 1.1).spans

    assert (span.start, span.end) == (0.0, 1.1)


def test_without_word_times_the_whole_utterance_goes_and_without_an_end_to_the_end_of_the_file() -> None:
    with_end: Utterance = {"role": "user", "message": "ssn 123 45 6789", "timestamp": 4.0, "end": 9.0}
    without: Utterance = {"role": "user", "message": "call 415 555 0132", "timestamp": 20.0}
    assert [(s.start, s.end, s.utterance) for s in plan([with_end, without], ENTITIES, 30.0).spans] == [
        (4.0 - PADDING_SECONDS, 9.0 + PADDING_SECONDS, 0),
        (20.0 - PADDING_SECONDS, 30.0, 1),
    ]


def test_words_that_disagree_with_the_text_mean_the_whole_utterance() -> None:
    utterance = timed("my ssn is 123 45 6789", 10.0)
    utterance["words"] = [{"word": "something", "start": 10.0, "end": 10.5}]  # not the text's words

    (span,) = plan([utterance], ENTITIES, 60.0).spans

    assert (span.start, span.end) == (10.0 - PADDING_SECONDS, utterance["end"] + PADDING_SECONDS)


def test_a_redacted_utterance_keeps_its_other_words_and_one_word_for_the_finding() -> None:
    utterance = timed("my ssn is 123 45 6789 ok", 0.0)
    found = find(utterance["message"], ENTITIES)

    redacted = redact_utterance(utterance, found, [range(3, 6)])

    assert redacted["message"] == "my ssn is [US_SSN] ok"
    assert [(w["word"], w["start"], w["end"]) for w in redacted["words"]] == [
        ("my", 0.0, 0.5),
        ("ssn", 0.5, 1.0),
        ("is", 1.0, 1.5),
        ("[US_SSN]", 1.5, 3.0),
        ("ok", 3.0, 3.5),
    ]
    assert redact_utterance(utterance, found, [None]).get("words") is None  # unmatched: no words kept
    assert (
        redact_utterance(utterance, [Found(0, 2, "US_SSN")], [range(0, 1)])["message"]
        == "[US_SSN] ssn is 123 45 6789 ok"
    )


def test_words_that_say_what_the_message_does_not_are_searched_dropped_and_muted_whole() -> None:
    """Found by the outsider attack of issue 15: the card in the words reached a non-admin."""
    utterance = timed("hello there friend", 1.0)
    card = ["4111", "1111", "1111", "1111"]
    utterance["words"] = [
        {"word": w, "start": 1.0 + i * 0.3, "end": 1.3 + i * 0.3} for i, w in enumerate(card)
    ]

    made = plan([utterance], ENTITIES, 30.0)

    assert made.utterances[0] == {k: v for k, v in utterance.items() if k != "words"}
    (span,) = made.spans
    assert (span.start, span.end) == (1.0 - PADDING_SECONDS, utterance["end"] + PADDING_SECONDS)


def test_a_span_reaches_every_word_it_covers_whatever_the_order_of_their_times() -> None:
    """Found by the outsider attack of issue 15: only the last word's stretch was muted."""
    utterance = timed("phone 415 555 0132", 4.0)
    utterance["end"] = 9.0
    utterance["words"][1:] = [
        {"word": "415", "start": 7.5, "end": 7.6},
        {"word": "555", "start": 5.0, "end": 5.01},
        {"word": "0132", "start": 7.9, "end": 8.0},
    ]

    (span,) = plan([utterance], ENTITIES, 30.0).spans

    assert (span.start, span.end) == (5.0 - PADDING_SECONDS, 8.0 + PADDING_SECONDS)
