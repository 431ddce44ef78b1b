"""Utterances' ends, where the source gives only starts.

Redaction mutes an utterance from its `timestamp` to its `end` when it has no word times, so an end we
guess errs late: the next utterance's start plus the source's time resolution (ElevenLabs counts whole
seconds), never past the end of the file when its duration is known."""

from __future__ import annotations

from tether_relay.transcripts.model import Utterance


def with_ends(
    utterances: list[Utterance], duration: float | None, resolution: float = 0.0
) -> list[Utterance]:
    """`utterances` with an `end` on each: its own when given (raised to its start if earlier, and to
    its last word's end), else the start of the next later utterance plus `resolution`, else
    `duration`. The last utterance of a call of unknown duration keeps no end when it has none."""
    starts = [u["timestamp"] for u in utterances]
    result: list[Utterance] = []
    for index, utterance in enumerate(utterances):
        start = utterance["timestamp"]
        end = utterance.get("end")
        if end is None:
            later = [s for s in starts[index + 1 :] if s > start]
            end = min(later) + resolution if later else duration
            if end is not None and duration is not None:
                end = min(end, duration)
        if end is None:
            result.append(utterance.copy())
            continue
        result.append({**utterance, "end": max(end, start, *(w["end"] for w in utterance.get("words", [])))})
    return result
