"""An organisation's redaction policy: whether it is on, what to find, and how the audio hides it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from tether_relay.redaction.detect import ENTITIES, Entity

Mode = Literal["silence", "beep"]  # what replaces a span in the audio
MODES: tuple[Mode, ...] = ("silence", "beep")


@dataclass(frozen=True, slots=True)
class Policy:
    enabled: bool = False
    entities: tuple[Entity, ...] = ENTITIES
    audio: Mode = "silence"

    @property
    def key(self) -> str:
        """Names what a redaction was made under: a copy made under another policy is made again."""
        canonical = orjson.dumps([sorted(self.entities), self.audio])
        return hashlib.sha256(canonical).hexdigest()[:16]

    def to_json(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "entities": list(self.entities), "audio": self.audio}

    @classmethod
    def from_json(cls, value: Any) -> Policy:
        """The stored policy (None or anything unreadable is the default, off)."""
        if not isinstance(value, dict):
            return cls()
        entities = tuple(e for e in ENTITIES if e in (value.get("entities") or ()))
        audio = value.get("audio") if value.get("audio") in MODES else "silence"
        return cls(bool(value.get("enabled")), entities or ENTITIES, audio)  # type: ignore[arg-type]
