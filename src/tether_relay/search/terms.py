"""The one tokenizer of search: what a transcript is indexed under and what a query asks for are made by
the same function, so both databases index exactly the terms Python chose (neither database's own parser
or stemmer runs) and the highlights mark exactly what matched.

A term is a run of letters and digits (combining marks kept inside it), case-folded, Latin diacritics
dropped ("José" finds "jose"), English words stemmed (Snowball: "cancelling" finds "cancel"). Scripts
written without spaces (Chinese, Japanese, Thai) give one term per character, so a phrase of characters
finds its run anywhere.
"""

from __future__ import annotations

import hashlib
import re
import sys
import unicodedata
from collections.abc import Iterator
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import regex


from tether_relay.transcripts.model import utterances_of

# Between two utterances, so a phrase never runs from one into the next. A private-use character: the
# tokenizer never makes a term of it, so no query can ask for it.
BOUNDARY = "\ue000"
# The first term of every document: whose it is (search_scope).
SCOPE = "\ue001"
# Joins two neighbouring terms into the pair PostgreSQL also indexes (the migration, search/query.py).
PAIR = "\ue002"
# PostgreSQL keeps word positions up to 16,383 (one is the scope's) and a tsvector under 1 MB: past these
# a transcript is not indexed further (said in docs/search.md), and a longer term is cut (cut the same way
# in a query).
MAX_TERMS = 16_382
MAX_TERM_CHARS = 40
MAX_BYTES = 200_000  # its words and their pairs then stay under the tsvector's 1 MB, whatever the script
_LATIN_MARKS = re.compile("[\u0300-\u036f]")
_ASCII_WORD = re.compile(r"[a-z]+\Z")


class Token(NamedTuple):  # a tuple: made for every word of every highlighted utterance
    term: str
    start: int  # offsets into the text it came from: [start, end)
    end: int


# Scripts written without spaces: one term per character.
_UNSPACED = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}"


# `regex` (for its Unicode classes) and `snowballstemmer` (which loads every language's stemmer) cost about
# a quarter of a second to import: paid by the first tokenization, not by every process start (the
# repository imports this module; serve, the worker and every CLI command import the repository).
@cache
def _word() -> regex.Pattern[str]:
    """A letter or digit, then letters, digits and combining marks; or one character of a script written
    without spaces."""
    import regex

    return regex.compile(
        rf"[{_UNSPACED}]|[\p{{L}}\p{{N}}--{_UNSPACED}][\p{{L}}\p{{N}}\p{{M}}--{_UNSPACED}]*", regex.V1
    )


@cache
def _stemmer() -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@cache
def _not_term() -> regex.Pattern[str]:
    import regex

    return regex.compile(r"[^\p{L}\p{N}\p{M}]+")


@lru_cache(maxsize=65_536)
def term_of(word: str) -> str:
    folded = unicodedata.normalize("NFKD", word.casefold())
    folded = unicodedata.normalize("NFKC", _LATIN_MARKS.sub("", folded))
    # A compatibility form may unfold into a space or punctuation (U+FC5E: a space and two marks): a term
    # keeps letters, digits and marks only, so it never holds the space that separates terms.
    folded = _not_term().sub("", folded)
    if _ASCII_WORD.match(folded):
        folded = _stemmer().stemWord(folded)
    return folded[:MAX_TERM_CHARS]


def tokens(text: str) -> Iterator[Token]:
    for match in _word().finditer(text):
        term = term_of(match.group())
        if term:
            yield Token(term, *match.span())


def terms(text: str) -> list[str]:
    """The terms of `text`, as `tokens` gives them, without their offsets (a quicker pass)."""
    return [term for term in map(term_of, _word().findall(text)) if term]


def document(text: str | None, data: Any) -> str | None:
    """What a transcript is indexed under: its terms, space-separated, BOUNDARY between utterances.
    None when there is no transcript (nothing is indexed)."""
    utterances = utterances_of(data)
    messages = [u["message"] for u in utterances] if utterances is not None else [text] if text else []
    if not messages:
        return None
    out: list[str] = []
    size = 0
    for index, message in enumerate(messages):
        if index:  # after every utterance, an empty one too: the n-th boundary ends the n-th utterance
            out.append(BOUNDARY)
        for term in terms(message):
            size += len(term.encode()) + 1
            if len(out) >= MAX_TERMS or size > MAX_BYTES:
                return " ".join(out)
            out.append(sys.intern(term))
    return " ".join(out)


def search_scope(organization_id: str, redacted: bool) -> str:
    """The term that starts every document of one organisation's transcripts (original or redacted), so
    each database finds an organisation's matches inside its index (intersecting two term lists) rather
    than by reading rows. A private-use character and a digest: no query can produce it, and no other
    organisation's documents hold it."""
    digest = hashlib.blake2b(f"{organization_id}\0{int(redacted)}".encode(), digest_size=12).hexdigest()
    return SCOPE + digest


def indexed(organization_id: str, redacted: bool, text: str | None, data: Any) -> str | None:
    """What `search_documents.terms` holds for a transcript: its scope, then its terms. None: nothing."""
    said = document(text, data)
    return None if said is None else f"{search_scope(organization_id, redacted)} {said}"
