"""Ranking a search's window of matches (its newest RANKED), in Python, from the terms each database
matched (search_documents.terms): the same order on SQLite and PostgreSQL.

Okapi BM25 as SQLite FTS5's bm25() computes it (k1 1.2, b 0.75, a document's length counted in its terms),
over the window: each phrase of the query weighs its number of words, where bm25() weighs a phrase by its
rarity in the whole index. That rarity is what made the databases' own ranking slow: bm25() counts every
document holding each phrase, the organisation's scope among them (every document), before scoring one;
PostgreSQL's ts_rank_cd reads each ranked document's whole vector out of TOAST (docs/search.md, measured).
Every document of the window holds every phrase, so rarity inside it says nothing; length does. A call
saying the bare words together ranks above every call saying them apart (what someone typing "cancel my
subscription" is looking for), then by the same sum.
tests/unit/test_search_rank.py holds this to bm25() for one phrase, where the two orders are the same.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tether_relay.search.query import MAX_TERMS, TextQuery

K1 = 1.2
B = 0.75
# Where the score of a call saying the bare words together starts: above any call's sum without them
# (each phrase adds less than its words times K1 + 1, and a query asks at most MAX_TERMS words).
TOGETHER = (K1 + 1) * MAX_TERMS


def _occurrences(phrase: tuple[str, ...]) -> re.Pattern[str]:
    """Where the phrase's terms stand in a row in a document's terms (space-separated, as indexed): each
    occurrence found, overlapping ones too, as FTS5 counts them."""
    said = " ".join(map(re.escape, phrase))
    if any(phrase[:k] == phrase[-k:] for k in range(1, len(phrase))):
        # Occurrences may overlap (`a a` is said twice in `a a a`): looked for after every space.
        return re.compile(f" (?={said} )")
    # They cannot: the whole phrase is matched, which the regex engine finds as a literal (faster).
    return re.compile(f" {said}(?= )")


def scores(documents: Sequence[str], query: TextQuery) -> list[float]:
    """Each document's score (higher is better) for the query, within these documents."""
    lengths = [terms.count(" ") + 1 for terms in documents]
    average = sum(lengths) / len(lengths) if lengths else 1.0
    weighed = [(_occurrences(phrase), float(len(phrase)), 0.0) for phrase in query.phrases]
    if query.ranked_together is not None:
        together = query.ranked_together
        weighed.append((_occurrences(together), float(len(together)), TOGETHER))
    out: list[float] = []
    for terms, length in zip(documents, lengths, strict=True):
        spaced = f" {terms} "
        norm = K1 * (1 - B + B * length / average)
        total = 0.0
        for occurrences, weight, tier in weighed:
            found = len(occurrences.findall(spaced))
            if found:
                total += tier + weight * found * (K1 + 1) / (found + norm)
        out.append(total)
    return out
