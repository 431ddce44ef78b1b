from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

Role = Literal["agent", "user"]
ROLES: tuple[Role, ...] = ("agent", "user")
_LABELS = {"agent": "Agent", "user": "User"}


class Utterance(TypedDict):
    role: Role
    message: str
    timestamp: float  # seconds from the start of the recording
    end: NotRequired[float]
    channel: NotRequired[int]


def to_text(utterances: list[Utterance]) -> str:
    """One line per utterance, `Agent: …` / `User: …`, as the contract's example shows."""
    return "\n".join(f"{_LABELS[u['role']]}: {u['message']}" for u in utterances)


def text_of(data: Any) -> str | None:
    """`transcriptionText` for cached `transcriptionData`: lines for our list shape, None otherwise."""
    if isinstance(data, list) and all(_is_utterance(item) for item in data):
        return to_text(data)
    return None


def _is_utterance(item: Any) -> bool:
    return isinstance(item, dict) and item.get("role") in ROLES and isinstance(item.get("message"), str)
