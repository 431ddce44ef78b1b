"""A transcript's redaction: each utterance redacted, and the stretches of audio to mute.

Whatever a reader may be shown is searched: the message, and the timed words when they are not the
message's own words (then the words are dropped and the whole utterance is muted: their times cannot be
trusted for text they do not share)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from tether_relay.redaction.detect import find
from tether_relay.redaction.spans import Span, span_of, word_ranges, words_say_the_message
from tether_relay.redaction.text import redact_text, redact_utterance
from tether_relay.transcripts.model import Utterance


@dataclass(frozen=True, slots=True)
class Plan:
    utterances: list[Utterance]  # redacted
    spans: list[Span]  # one a finding, in transcript order


def plan(utterances: list[Utterance], entities: Collection[str], duration: float) -> Plan:
    redacted: list[Utterance] = []
    spans: list[Span] = []
    for index, utterance in enumerate(utterances):
        found = find(utterance["message"], entities)
        if utterance.get("words") and not words_say_the_message(utterance):
            said = " ".join(w["word"] for w in utterance.get("words", []))
            heard = found or find(said, entities)
            kept: Utterance = {**utterance, "message": redact_text(utterance["message"], found)}
            kept.pop("words", None)
            redacted.append(kept)
            spans += [span_of(utterance, index, item.entity, None, duration) for item in heard[:1]]
            continue
        covered = word_ranges(utterance, found)
        redacted.append(redact_utterance(utterance, found, covered))
        spans += [
            span_of(utterance, index, item.entity, words, duration)
            for item, words in zip(found, covered, strict=True)
        ]
    return Plan(redacted, spans)
