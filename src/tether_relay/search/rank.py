"""Ranking a search's window of matches (its newest RANKED), in Python, from the terms each database
matched (search_documents.terms): the same order on SQLite and PostgreSQL.

Okapi BM25 as SQLite FTS5's bm25() computes it (k1 1.2, b 0.75, a document's length counted in its terms),
over the window: each phrase of the query weighs its number of words, where bm25() weighs a phrase by its
rarity in the whole index. That rarity is what made the databases' own ranking slow: bm25() counts every
document holding each phrase, the organisation's scope among them (every document), before scoring one;
PostgreSQL's ts_rank_cd reads each ranked document's whole vector out of TOAST (docs/search.md, measured).
Every document of the window holds every phrase, so rarity inside it says nothing; length does.
tests/unit/test_search_rank.py holds this to bm25() for one phrase, where the two orders are the same.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tether_relay.search.query import TextQuery

K1 = 1.2
B = 0.75


def _occurrences(phrase: tuple[str, ...]) -> re.Pattern[str]:
    """Where the phrase's terms stand in a row in a document's terms (space-separated, as indexed): each
    occurrence found, overlapping ones too, as FTS5 counts them (only the space before it is taken)."""
    return re.compile(" (?=" + " ".join(map(re.escape, phrase)) + " )")


def scores(documents: Sequence[str], query: TextQuery) -> list[float]:
    """Each document's score (higher is better) for the query, within these documents."""
    lengths = [terms.count(" ") + 1 for terms in documents]
    average = sum(lengths) / len(lengths) if lengths else 1.0
    weighed = [(_occurrences(phrase), float(len(phrase))) for phrase in query.phrases]
    if query.ranked_together is not None:  # said together: weighs as much again as all its words apart
        weighed.append((_occurrences(query.ranked_together), float(len(query.ranked_together))))
    out: list[float] = []
    for terms, length in zip(documents, lengths, strict=True):
        spaced = f" {terms} "
        norm = K1 * (1 - B + B * length / average)
        total = 0.0
        for occurrences, weight in weighed:
            found = len(occurrences.findall(spaced))
            total += weight * found * (K1 + 1) / (found + norm)
        out.append(total)
    return out
