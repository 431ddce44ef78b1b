"""A transcript as a file: WebVTT (voice tags per speaker), SRT, plain lines, or our JSON list.

Captions are written with webvtt-py and srt, which check what they write; this module only decides cue
times and text. Every cue is one line: a blank line inside a message would end a cue early."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

import orjson
import srt
import webvtt
from webvtt.models import Timestamp

from tether_relay.transcripts.alignment import with_ends
from tether_relay.transcripts.model import Utterance, to_text

Format = Literal["json", "txt", "srt", "vtt"]
FORMATS: tuple[Format, ...] = ("json", "txt", "srt", "vtt")
MEDIA_TYPES: dict[Format, str] = {
    "json": "application/json",
    "txt": "text/plain; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
}
_LABELS = {"agent": "Agent", "user": "User"}
# A cue without an end (the last utterance of a call of unknown length) is shown this long.
_LAST_CUE_SECONDS = 5.0
_WHITESPACE = re.compile(r"\s+")


def export(utterances: list[Utterance], fmt: Format, duration: float | None) -> str:
    if fmt == "json":
        return orjson.dumps(utterances).decode()
    if fmt == "txt":
        return to_text([{**u, "message": _one_line(u["message"])} for u in utterances]) + "\n"
    cues = _cues(utterances, duration)
    if fmt == "srt":
        composed: str = srt.compose(
            srt.Subtitle(i, timedelta(seconds=start), timedelta(seconds=end), f"{_LABELS[u['role']]}: {text}")
            for i, (u, start, end, text) in enumerate(cues, start=1)
        )
        return composed
    captions = [
        webvtt.Caption(_vtt_time(start), _vtt_time(end), f"<v {u['role']}>{_escaped(text)}</v>")
        for u, start, end, text in cues
    ]
    return webvtt.WebVTT(captions=captions).content


def _cues(utterances: list[Utterance], duration: float | None) -> list[tuple[Utterance, float, float, str]]:
    cues = []
    for u in sorted(with_ends(utterances, duration), key=lambda u: u["timestamp"]):
        text = _one_line(u["message"])
        if text:
            start = u["timestamp"]
            cues.append((u, start, u.get("end", start + _LAST_CUE_SECONDS), text))
    return cues


def _one_line(message: str) -> str:
    return _WHITESPACE.sub(" ", message).strip()


def _escaped(text: str) -> str:
    """Cue text is markup: `&`, `<` and `>` are written as references (WebVTT §4.2.2)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _vtt_time(seconds: float) -> str:
    return str(Timestamp.from_seconds(seconds))
