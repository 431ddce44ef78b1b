"""Where in the audio each finding was said, padded, and the stretches to mute.

From the words' times where the utterance has them and its text's words can be matched to them; else
the whole utterance, from `timestamp` to `end` (to the end of the file when it has no end): when
unsure, remove more."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from tether_relay.redaction.detect import Found
from tether_relay.transcripts.model import Utterance

PADDING_SECONDS = 0.2  # either side of a span: what word times miss of a word's onset and release
_PUNCTUATION = ".,;:!?\"'()[]{}"


@dataclass(frozen=True, slots=True)
class Span:
    start: float
    end: float
    entity: str
    utterance: int  # index in the transcript


def word_ranges(utterance: Utterance, found: list[Found]) -> list[range | None]:
    """For each finding, the indexes of the words it covers; None where the text's words and the timed
    words do not match (a transcript and word list that disagree are not trusted for that finding)."""
    words = utterance.get("words") or []
    if not words:
        return [None] * len(found)
    tokens = [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", utterance["message"])]
    matcher = difflib.SequenceMatcher(
        None, [_bare(t[2]) for t in tokens], [_bare(w["word"]) for w in words], autojunk=False
    )
    to_word = {block.a + k: block.b + k for block in matcher.get_matching_blocks() for k in range(block.size)}
    ranges: list[range | None] = []
    for item in found:
        covered = [i for i, (start, end, _) in enumerate(tokens) if start < item.end and end > item.start]
        if not covered or any(i not in to_word for i in covered):
            ranges.append(None)
            continue
        indexes = [to_word[i] for i in covered]
        ranges.append(range(min(indexes), max(indexes) + 1))
    return ranges


def span_of(
    utterance: Utterance,
    index: int,
    entity: str,
    covered: range | None,
    duration: float,
    padding: float = PADDING_SECONDS,
) -> Span:
    """A finding's padded stretch of the audio, within [0, duration]: from the earliest to the latest of
    the words it covers (whatever order their times are in), or the whole utterance."""
    words = utterance.get("words") or []
    if covered is not None:
        start = min(words[i]["start"] for i in covered)
        end = max(words[i]["end"] for i in covered)
    else:
        start, end = utterance["timestamp"], utterance.get("end", duration)
    start, end = max(start - padding, 0.0), min(end + padding, duration)
    return Span(min(start, end), end, entity, index)


def words_say_the_message(utterance: Utterance) -> bool:
    """Whether the utterance's timed words are its message's words (else neither their times nor their
    text are trusted: the words could say what the message does not)."""
    words = utterance.get("words") or []
    return [_bare(w["word"]) for w in words] == [_bare(t) for t in utterance["message"].split()]


def muted(spans: list[Span]) -> list[tuple[float, float]]:
    """The union of the spans, as sorted stretches that neither overlap nor touch."""
    stretches: list[tuple[float, float]] = []
    for span in sorted(spans, key=lambda s: s.start):
        if stretches and span.start <= stretches[-1][1]:
            stretches[-1] = (stretches[-1][0], max(stretches[-1][1], span.end))
        else:
            stretches.append((span.start, span.end))
    return stretches


def _bare(word: str) -> str:
    return word.lower().strip(_PUNCTUATION)
