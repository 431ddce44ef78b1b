"""search/rank.py: BM25 as SQLite FTS5's bm25() computes it, weighing each phrase by its length where
bm25() weighs it by its rarity; and the matches of one search, found from the terms the database
matched, are the ones tokenizing the transcript again finds."""

from __future__ import annotations

import math
import sqlite3

from hypothesis import example, given, settings
from hypothesis import strategies as st

from tether_relay.search.highlight import highlights, matches
from tether_relay.search.query import text_query
from tether_relay.search.rank import scores
from tether_relay.search.terms import BOUNDARY, MAX_TERMS, indexed, tokens
from tether_relay.transcripts.model import Utterance

WORDS = st.sampled_from(["a", "b", "cc", "ddd", "refund", "cancel"])
DOCUMENTS = st.lists(st.lists(WORDS, min_size=1, max_size=30).map(" ".join), min_size=1, max_size=25)


def bm25(documents: list[str], phrase: str) -> dict[int, float]:
    """FTS5's bm25() of each document matching the phrase (negated: higher is better)."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(terms)")
    db.executemany("INSERT INTO t(rowid, terms) VALUES (?, ?)", enumerate(documents))
    rows = db.execute("SELECT rowid, -bm25(t) FROM t WHERE t MATCH ?", [f'"{phrase}"']).fetchall()
    return dict(rows)


@settings(max_examples=200, deadline=None)
@given(DOCUMENTS, st.lists(WORDS, min_size=1, max_size=2).map(" ".join))
@example(["a a a", "a a b", "b b b b b"], "a a")
def test_one_phrase_scores_as_fts5_bm25_up_to_its_rarity(documents: list[str], phrase: str) -> None:
    """Over the same documents, for one phrase, each matching document's score is bm25()'s times one
    number (the phrase's rarity against its length): the same order, ties included. Overlapping
    occurrences ("a a a" holds "a a" twice) are counted as FTS5 counts them."""
    ours = scores(documents, text_query(f'"{phrase}"'))
    theirs = bm25(documents, phrase)
    for index, score in enumerate(ours):
        assert (score > 0) == (index in theirs)
    ratios = [ours[index] / score for index, score in theirs.items()]
    assert all(math.isclose(r, ratios[0], rel_tol=1e-9) for r in ratios)


def test_more_mentions_rank_higher_and_the_bare_words_said_together_rank_first() -> None:
    query = text_query("cancel refund")
    together, apart, twice = scores(
        ["i cancel refund ok", "cancel it refund ok", "cancel it refund refund"], query
    )
    assert together > twice > apart
    assert (
        scores(["refund", "refund refund"], text_query("refund"))[1]
        > scores(["refund", "refund refund"], text_query("refund"))[0]
    )


def test_the_bare_words_said_together_rank_above_any_call_saying_them_apart() -> None:
    """However long the call saying them together, and however often the others say them apart; and a
    word asked again and again ranks the call saying it so first."""
    long_together = " ".join(["filler"] * 500 + ["mango", "polici"])
    apart = ["mango it polici", "polici mango", "polici it mango it polici it mango"]
    short, long, *rest = scores(["mango polici", long_together, *apart], text_query("mango policy"))
    assert short > long > max(rest)
    thrice = scores(
        ["refund refund refund it it", "refund it refund it refund"], text_query("refund refund refund")
    )
    assert thrice[0] > thrice[1]


UTTERANCES = st.lists(
    st.lists(st.sampled_from(["Refund", "refunds,", "the", "A", "cancel", "¿qué?", ""]), max_size=8).map(
        " ".join
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(UTTERANCES, st.sampled_from(["refund", '"cancel the"', "a refund", "qué"]))
def test_matches_from_the_indexed_terms_are_those_of_tokenizing_again(said: list[str], q: str) -> None:
    """Empty utterances (the first one too) keep their place, so the n-th indexed segment is the n-th
    utterance's terms."""
    utterances: list[Utterance] = [
        {"role": "user", "message": message, "timestamp": float(i)} for i, message in enumerate(said)
    ]
    query = text_query(q)
    terms = indexed("org", False, None, utterances) if utterances else None
    if said and terms is not None:  # each utterance, empty ones too, is followed by its boundary
        assert terms.count(BOUNDARY) == len(said) - 1
    assert matches(utterances, query, terms) == matches(utterances, query)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "A", "b", "refund", "refunds", "x"]), max_size=20).map(" ".join),
    st.sampled_from(["a", "refund", '"a a"', '"a b a"', "a b", '"refund a" b']),
)
def test_the_highlights_cover_every_occurrence_of_every_phrase_and_nothing_else(message: str, q: str) -> None:
    """Checked against the plainest search there is: every run of tokens, compared with each phrase
    (overlapping and repeated occurrences, stemmed and cased forms of a word)."""
    query = text_query(q)
    words = list(tokens(message))
    phrases = [*query.phrases, *([query.ranked_together] if query.ranked_together else [])]
    expected = {
        at
        for phrase in phrases
        for i in range(len(words) - len(phrase) + 1)
        if tuple(w.term for w in words[i : i + len(phrase)]) == phrase
        for at in range(words[i].start, words[i + len(phrase) - 1].end)
    }
    marked = {at for start, end in highlights(message, query) for at in range(start, end)}
    assert marked == expected


def test_an_utterance_cut_at_max_terms_is_matched_past_the_cut() -> None:
    """The index holds a transcript up to MAX_TERMS terms (one a character, in Chinese): the utterance
    it was cut in is tokenized again, not judged by what the index holds of it."""
    utterances: list[Utterance] = [
        {"role": "user", "message": "字" * (MAX_TERMS - 2), "timestamp": 0.0},
        {"role": "user", "message": "字退款", "timestamp": 1.0},
    ]
    terms = indexed("org", False, None, utterances)
    assert terms is not None
    assert "退" not in terms
    found = matches(utterances, text_query("退款"), terms)
    assert [m.index for m in found.shown] == [1]
