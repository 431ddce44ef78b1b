from __future__ import annotations

import math
from typing import Any, Literal, NotRequired, TypedDict

import orjson

Role = Literal["agent", "user"]
ROLES: tuple[Role, ...] = ("agent", "user")
_LABELS = {"agent": "Agent", "user": "User"}


class Word(TypedDict):
    word: str
    start: float  # seconds from the start of the recording, like the utterance's
    end: float


class Utterance(TypedDict):
    role: Role
    message: str
    timestamp: float  # seconds from the start of the recording
    end: NotRequired[float]
    words: NotRequired[list[Word]]  # where the source times words (Twilio Voice Intelligence, ingest)
    channel: NotRequired[int]


def to_text(utterances: list[Utterance]) -> str:
    """One line per utterance, `Agent: …` / `User: …`, as the contract's example shows."""
    return "\n".join(f"{_LABELS[u['role']]}: {u['message']}" for u in utterances)


def text_of(data: Any) -> str | None:
    """`transcriptionText` for cached `transcriptionData`: lines for our list shape, None otherwise."""
    if isinstance(data, list) and all(_is_utterance(item) for item in data):
        return to_text(data)
    return None


def utterances_of(data: Any) -> list[Utterance] | None:
    """Cached `transcriptionData` as our utterance list, or None when it is provider-shaped or absent."""
    if isinstance(data, list) and data and all(_is_utterance(item) for item in data):
        return data
    return None


def _is_utterance(item: Any) -> bool:
    return isinstance(item, dict) and item.get("role") in ROLES and isinstance(item.get("message"), str)


class UnrenderableTranscript(ValueError):
    """Transcript data the recording answer could not render: it is never cached."""


def checked(data: Any) -> list[Utterance] | dict[str, Any] | None:
    """`data` if it may be cached as `transcriptionData`, else UnrenderableTranscript.

    The recording answer renders the cache with orjson (api/schemas.py, api/streamed_json.py), so the
    test is orjson itself: non-string keys and deep nesting are refused. orjson would write NaN and
    infinities as null, which the contract's numbers do not allow, so those are refused too. So is any
    number beyond ±2^53: PostgreSQL keeps JSON numbers as `numeric` and gives 1e20 back as the integer
    100000000000000000000, which orjson cannot write (and beyond 2^53 a JavaScript reader loses digits).
    A list must be utterances (`[{role, message, timestamp}]`) or provider-shaped objects."""
    if data is None:
        return None
    try:
        orjson.dumps(data)
    except (orjson.JSONEncodeError, TypeError):
        raise UnrenderableTranscript("not encodable as JSON") from None
    if not _numbers_round_trip(data):
        raise UnrenderableTranscript("holds NaN, an infinity or a number beyond ±2^53")
    if isinstance(data, dict):
        return data
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise UnrenderableTranscript("neither a list of objects nor an object")
    if any(_is_utterance(item) for item in data) and not all(map(_valid_utterance, data)):
        raise UnrenderableTranscript("an utterance lacks a role, message or numeric timestamp")
    return data


# The largest magnitude every reader gives back as it was written (doubles are exact up to 2^53).
_EXACT = 2**53


def exact_number(value: float) -> bool:
    """Whether a JSON number is given back as written by both databases and every reader: finite, and
    within ±2^53 (PostgreSQL gives 1e20 back as an integer orjson cannot write)."""
    return math.isfinite(value) and abs(value) <= _EXACT


def _numbers_round_trip(value: Any) -> bool:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return exact_number(value)
    if isinstance(value, dict):
        return all(_numbers_round_trip(v) for v in value.values())
    if isinstance(value, list):
        return all(_numbers_round_trip(v) for v in value)
    return True


def _valid_utterance(item: dict[str, Any]) -> bool:
    times = [item.get("timestamp"), *(item[k] for k in ("end",) if k in item)]
    words = item.get("words", [])
    return (
        _is_utterance(item)
        and all(map(_seconds, times))
        and isinstance(words, list)
        and all(_valid_word(word) for word in words)
    )


def _valid_word(word: Any) -> bool:
    return (
        isinstance(word, dict)
        and isinstance(word.get("word"), str)
        and _seconds(word.get("start"))
        and _seconds(word.get("end"))
    )


def _seconds(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
