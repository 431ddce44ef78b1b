"""Sinch's transcript file, whose schema no source documents (providers.md §3.3: UNCERTAIN).

We read the shapes a transcript file plausibly has: a list of segments (at the top, or under
`transcript`, `segments`, `results` or `utterances`) with a text field and, if present, a role or
speaker and a start time. Anything we cannot read that way is kept whole as the provider-shaped object
the contract allows for `transcriptionData`, with whatever plain text it holds. It never raises.
"""

from __future__ import annotations

from typing import Any

from tether_relay.transcripts.alignment import with_ends
from tether_relay.transcripts.model import Role, Utterance, to_text

_LIST_KEYS = ("transcript", "segments", "results", "utterances", "transcription")
_TEXT_KEYS = ("text", "transcript", "message", "utterance")
_START_KEYS = ("start", "startTime", "start_time", "timestamp", "offset")
_END_KEYS = ("end", "endTime", "end_time")
_ROLES: dict[str, Role] = {
    "agent": "agent",
    "user": "user",
    "customer": "user",
    "caller": "user",
    "callee": "user",
    "bot": "agent",
    "assistant": "agent",
}


def parse(document: Any) -> tuple[list[Utterance] | dict[str, Any] | None, str | None]:
    """(transcriptionData, transcriptionText) from a parsed transcript file."""
    segments = _segments(document)
    if segments is not None:
        utterances = [u for u in (_utterance(s) for s in segments) if u is not None]
        if utterances and len(utterances) == len(segments):
            return with_ends(utterances, None), to_text(utterances)
    if isinstance(document, dict):
        return document, _plain_text(document)
    if isinstance(document, list):
        return {"segments": document}, _plain_text({"segments": document})
    return None, None


def _segments(document: Any) -> list[Any] | None:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        for key in _LIST_KEYS:
            if isinstance(document.get(key), list):
                return list(document[key])
    return None


def _utterance(segment: Any) -> Utterance | None:
    if not isinstance(segment, dict):
        return None
    text = next((segment[k] for k in _TEXT_KEYS if isinstance(segment.get(k), str)), None)
    speaker = next((segment[k] for k in ("role", "speaker") if isinstance(segment.get(k), str)), None)
    role = _ROLES.get(speaker.lower()) if speaker else None
    if text is None or role is None:
        return None
    start = next((segment[k] for k in _START_KEYS if _is_number(segment.get(k))), 0.0)
    utterance: Utterance = {"role": role, "message": text, "timestamp": float(start)}
    end = next((segment[k] for k in _END_KEYS if _is_number(segment.get(k))), None)
    if end is not None and end >= start:
        utterance["end"] = float(end)
    return utterance


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _plain_text(document: dict[str, Any]) -> str | None:
    for key in _TEXT_KEYS:
        if isinstance(document.get(key), str):
            return str(document[key])
    segments = _segments(document) or []
    texts = [
        next((s[k] for k in _TEXT_KEYS if isinstance(s.get(k), str)), None)
        for s in segments
        if isinstance(s, dict)
    ]
    joined = "\n".join(t for t in texts if t)
    return joined or None
