"""A transcript with what was found replaced by `[ENTITY]`, in its text, its utterances and their words."""

from __future__ import annotations

from tether_relay.redaction.detect import Found
from tether_relay.transcripts.model import Utterance, Word


def redact_text(text: str, found: list[Found]) -> str:
    """`text` with each finding (in order, not overlapping) replaced by `[ENTITY]`."""
    parts, position = [], 0
    for item in found:
        parts += [text[position : item.start], f"[{item.entity}]"]
        position = item.end
    return "".join([*parts, text[position:]])


def redact_utterance(utterance: Utterance, found: list[Found], covered: list[range | None]) -> Utterance:
    """The utterance with its message redacted and the words each finding covers (`covered`: indexes
    into `words`, one range a finding, None where they could not be matched to the text) merged into
    one `[ENTITY]` word spanning their times."""
    redacted: Utterance = {**utterance, "message": redact_text(utterance["message"], found)}
    words = utterance.get("words")
    if not words or not found:
        return redacted
    if len(covered) != len(found) or None in covered:  # words not matched: none kept, never a leak
        redacted.pop("words")
        return redacted
    kept: list[Word] = []
    position = 0
    for item, span in zip(found, covered, strict=True):
        assert span is not None
        kept += words[position : span.start]
        if span:
            kept.append(
                {
                    "word": f"[{item.entity}]",
                    "start": words[span.start]["start"],
                    "end": words[span.stop - 1]["end"],
                }
            )
        position = max(position, span.stop)
    kept += words[position:]
    redacted["words"] = kept
    return redacted
