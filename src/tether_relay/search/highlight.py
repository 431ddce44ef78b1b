"""Which utterances of a hit matched, and where: found with the tokenizer that indexed them
(search/terms.py), so what is marked is what the database matched."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from tether_relay.search.query import TextQuery
from tether_relay.search.terms import BOUNDARY, terms, tokens
from tether_relay.transcripts.model import Utterance

SNIPPET_CHARS = 160  # a longer message is cut to this much around its first match
EXCERPT_CHARS = 400  # a longer message is answered as this much of it around its first match
MAX_MATCHES = 5  # matching utterances shown per call
MAX_MARKS = 20  # highlights per utterance shown
# Of each hit's transcript this much is looked at for matches (a call of about 40 minutes; the index holds
# more): one organisation's enormous transcripts cannot make a search cost more than this per hit.
SCANNED_CHARS = 20_000


@dataclass(frozen=True, slots=True)
class Match:
    index: int
    utterance: Utterance
    highlights: list[tuple[int, int]]  # [start, end) in the message, in code points

    def document(self) -> dict[str, Any]:
        """The utterance as an answer carries it: a long message cut to EXCERPT_CHARS around its first
        match (`excerptStart`: where the excerpt starts in the message), the highlights in the excerpt."""
        u = self.utterance
        message, start = u["message"], 0
        if len(message) > EXCERPT_CHARS:
            start = max(0, min(self.highlights[0][0] - EXCERPT_CHARS // 4, len(message) - EXCERPT_CHARS))
            message = message[start : start + EXCERPT_CHARS]
        marks = [
            [max(a, start) - start, min(b, start + len(message)) - start]
            for a, b in self.highlights
            if b > start and a < start + len(message)
        ]
        return {
            "index": self.index,
            "role": u["role"],
            "timestamp": u["timestamp"],
            "end": u.get("end"),
            "message": message,
            "excerptStart": start,
            "highlights": marks,
            "snippet": snippet(u["message"], self.highlights),
        }


@dataclass(frozen=True, slots=True)
class Matches:
    shown: list[Match]  # the first MAX_MATCHES
    count: int  # matching utterances in what was looked at
    complete: bool  # False: the transcript was longer than what was looked at (SCANNED_CHARS)


def matches(utterances: list[Utterance], query: TextQuery, indexed: str | None = None) -> Matches:
    """The utterances holding a phrase of the query, in order, with what to mark in the first MAX_MATCHES;
    within the first SCANNED_CHARS of the transcript. `indexed`: the terms the database matched
    (search/terms.py `indexed`), each utterance's terms without tokenizing it again."""
    shown: list[Match] = []
    count, budget = 0, SCANNED_CHARS
    said = _said(indexed, len(utterances))
    for index, utterance in enumerate(utterances):
        if budget <= 0:
            return Matches(shown, count, False)
        message = utterance["message"]
        looked_at = message[:budget]
        budget -= len(looked_at)
        whole = len(looked_at) == len(message)
        if _holds(said[index] if whole and index < len(said) else terms(looked_at), query):
            count += 1
            if len(shown) < MAX_MATCHES:  # only what is shown needs offsets
                shown.append(Match(index, utterance, highlights(looked_at, query)[:MAX_MARKS]))
        if not whole:
            return Matches(shown, count, False)
    return Matches(shown, count, True)


def _said(indexed: str | None, utterances: int) -> list[list[str]]:
    """Each utterance's terms as indexed, for those the index holds whole: every one followed by a
    BOUNDARY (the last may have been cut at MAX_TERMS). None of them when the count does not line up (a
    document indexed before every utterance, even an empty first one, was followed by its boundary)."""
    if indexed is None:
        return []
    segments = indexed.partition(" ")[2].split(BOUNDARY)  # the scope first
    if len(segments) != utterances:
        return []
    return [segment.split() for segment in segments[:-1]]


def _holds(said: list[str], query: TextQuery) -> bool:
    """Whether these terms hold a phrase of the query (the bare words' phrase holds its words)."""
    if query.terms.isdisjoint(said):  # most utterances
        return False
    return any(_at(said, phrase) for phrase in query.phrases)


def _at(said: list[str], phrase: tuple[str, ...]) -> list[int]:
    """Where the phrase starts in `said` (its first term looked for by list.index: the search in C)."""
    first, rest, n = phrase[0], list(phrase[1:]), len(phrase)
    found: list[int] = []
    at = -1
    while True:
        try:
            at = said.index(first, at + 1)
        except ValueError:
            return found
        if said[at + 1 : at + n] == rest:
            found.append(at)


def highlights(message: str, query: TextQuery) -> list[tuple[int, int]]:
    """[start, end) of each phrase of the query in `message`, merged. (`matches` asks only for messages
    it found to hold one: no quick pass first.)"""
    words = list(tokens(message))
    said = [w.term for w in words]
    ranges: list[tuple[int, int]] = []
    together = (query.ranked_together,) if query.ranked_together else ()
    for phrase in (*query.phrases, *together):
        ranges += [(words[i].start, words[i + len(phrase) - 1].end) for i in _at(said, phrase)]
    return _merged(ranges)


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


def snippet(message: str, marks: list[tuple[int, int]]) -> str:
    """The message (or SNIPPET_CHARS of it around the first match) as HTML: escaped, each match in
    <mark>…</mark>, an ellipsis where it was cut."""
    start, end = 0, len(message)
    if end > SNIPPET_CHARS and marks:
        start = max(0, marks[0][0] - SNIPPET_CHARS // 3)
        end = min(len(message), start + SNIPPET_CHARS)
        start = max(0, end - SNIPPET_CHARS)
    parts = ["…" if start > 0 else ""]
    at = start
    for mark_start, mark_end in marks:
        if mark_end <= start or mark_start >= end:
            continue
        a, b = max(mark_start, start), min(mark_end, end)
        parts += [html.escape(message[at:a]), "<mark>", html.escape(message[a:b]), "</mark>"]
        at = b
    parts += [html.escape(message[at:end]), "…" if end < len(message) else ""]
    return "".join(parts)
