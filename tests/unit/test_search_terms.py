"""The pure half of search: one tokenizer for what is indexed and what is asked, queries that are only
ever quoted terms in either database's language, highlights that mark what a phrase matched."""

from __future__ import annotations

import re

import regex
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tether_relay.search.highlight import highlights, snippet
from tether_relay.search.query import text_query
from tether_relay.search.terms import (
    BOUNDARY,
    MAX_TERMS,
    SCOPE,
    document,
    search_scope,
    terms,
    tokens,
)

# Words from several scripts, with marks, digits, full-width forms and emoji; joined by punctuation.
WORD = st.sampled_from(
    [
        "cancel",
        "Cancelling",
        "subscription",
        "José",
        "Núñez",
        "straße",
        "\uff21\uff22\uff23\uff11\uff12\uff13",
        "4111",
        "取消",
        "订阅",
        "ございます",
        "रद्द",
        "ऑर्डर",
        "Σωκράτης",
        "שלום",
        "🎉",
        "don't",
        "e-mail",
        "O'Brien",
        "naïve",
    ]
)
SEPARATOR = st.sampled_from([" ", ", ", ". ", " - ", "\n", "\u00a0", "  ", "… ", " (", ") ", '" ', " '"])


@st.composite
def sentences(draw: st.DrawFn) -> str:
    words = draw(st.lists(WORD, min_size=1, max_size=12))
    return "".join(w + draw(SEPARATOR) for w in words)


@settings(max_examples=300, deadline=None)
@given(sentences(), st.data())
def test_any_run_of_said_words_finds_itself_as_a_phrase(message: str, data: st.DataObject) -> None:
    said = list(tokens(message))
    if not said:
        return
    start = data.draw(st.integers(0, len(said) - 1))
    end = data.draw(st.integers(start, min(len(said) - 1, start + 5)))
    typed = message[said[start].start : said[end].end]

    query = text_query('"' + typed.replace('"', " ") + '"')  # a quote inside is punctuation

    marks = highlights(message, query)
    assert any(a <= said[start].start and said[end].end <= b for a, b in marks), (typed, marks)
    indexed = (document(message, None) or "").split(" ")
    phrase = list(query.phrases[0])
    assert any(indexed[i : i + len(phrase)] == phrase for i in range(len(indexed))), (phrase, indexed)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40))
@example("0\ufc5e")  # NFKC unfolds this ligature into a space and two marks
@example("\ufdfa")  # ... and this one into four words
def test_a_term_is_letters_digits_and_marks_only(text: str) -> None:
    """Never the space that separates terms in the index, nor a character of the queries' syntax."""
    for term in terms(text):
        assert regex.fullmatch(r"[\p{L}\p{N}\p{M}]+", term), term  # regex's Unicode, as the tokenizer's


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=80))
def test_a_query_is_only_quoted_terms_in_either_language(q: str) -> None:
    try:
        query = text_query(q)
    except ValueError:
        return
    scope = search_scope("org-a", False)
    # What is left once every quoted term is taken out is the language's operators, nothing a user typed.
    fts5 = query.fts5(scope)
    assert fts5.startswith(f'"{scope}" AND (')
    assert set(re.sub(r'"[^"\s]+(?: [^"\s]+)*"|[()]', " ", fts5).split()) <= {"AND", "OR"}
    assert re.fullmatch(r"[()&|<>\- ]*", re.sub(r"'[^'\\\s]+'", "", query.tsquery(scope)))
    assert query.tsquery(scope).startswith(f"('{scope}') & (")
    # The scope and the utterance boundary are terms no query can ask for.
    assert BOUNDARY not in query.fts5(scope)
    assert not {SCOPE, BOUNDARY} & set("".join(p for phrase in query.phrases for p in phrase))


def test_a_phrase_never_runs_from_one_utterance_into_the_next() -> None:
    data = [
        {"role": "agent", "message": "Shall I cancel", "timestamp": 0.0},
        {"role": "user", "message": "my subscription? Yes.", "timestamp": 1.0},
    ]
    indexed = document(None, data)
    assert indexed == f"shall i cancel {BOUNDARY} my subscript yes"
    assert BOUNDARY not in terms(BOUNDARY + " cancel")


def test_a_huge_transcript_is_indexed_up_to_the_cap() -> None:
    indexed = document("word " * (MAX_TERMS + 500), None)
    assert indexed is not None
    assert len(indexed.split(" ")) == MAX_TERMS
    assert document(None, None) is None
    assert document("", []) is None


def test_the_snippet_is_escaped_html_around_the_first_match() -> None:
    message = "<b>" + "x " * 200 + "cancel & go"
    query = text_query("cancel")
    made = snippet(message, highlights(message, query))
    assert made.startswith("…")
    assert made.endswith("<mark>cancel</mark> &amp; go")
    assert "<b>" not in made
    assert len(made) < 220


@settings(max_examples=300, deadline=None)
@given(st.one_of(sentences(), st.text(max_size=60)))
def test_the_quick_pass_gives_the_terms_the_offsets_pass_gives(text: str) -> None:
    assert terms(text) == [token.term for token in tokens(text)]
