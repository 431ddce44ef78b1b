"""A search box's text → what each database is asked, and whether it names a phone number or an id.

Words must all be said in the call (anywhere); "quoted words" must be said together, in one utterance.
Several bare words also rank calls that say them together first (search/rank.py). Terms come from
search/terms.py, and are quoted for each database's query language, so nothing a user types is that
language's syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

import phonenumbers

from tether_relay.search.terms import PAIR, terms

MAX_PHRASES = 12
MAX_TERMS = 64  # a character each in Chinese, Japanese and Thai: a sentence of them fits
_QUOTED = re.compile(r'"([^"]*)"?')
_PHONE = re.compile(r"\+?[\d\s().\-]{7,32}")


class UnsearchableQuery(ValueError):
    """The text asks for nothing that can be searched (no word), or for too much (QueryTooLong)."""


class QueryTooLong(UnsearchableQuery):
    """More words or phrases than a search takes: refused, even when the text could also be an id."""


@dataclass(frozen=True, slots=True)
class TextQuery:
    phrases: tuple[tuple[str, ...], ...]  # all must match; each one's terms in a row
    ranked_together: tuple[str, ...] | None  # the bare words, as one phrase: ranked first when said so

    terms: frozenset[str]  # every term asked for: an utterance holding none is not looked at closer

    def fts5(self, scope: str) -> str:
        """SQLite FTS5's MATCH, within the documents starting with `scope` (search/terms.py)."""
        every = " AND ".join(_fts5_phrase(p) for p in self.phrases)
        return f"{_fts5_phrase((scope,))} AND ({every})"

    def tsquery(self, scope: str) -> str:
        """A PostgreSQL tsquery, within the documents starting with `scope`, each phrase asked as its
        pairs (search/terms.py PAIR); a phrase of three terms or more is then found in the terms
        (`spaced_phrases`)."""
        every = " & ".join(_ts_phrase(p) for p in self.phrases)
        return f"('{scope}') & ({every})"

    def spaced_phrases(self) -> list[str]:
        """The phrases of three terms or more as they stand in a document's terms (search_documents.terms,
        space-separated, with a space added at each end): PostgreSQL checks them there, because a tsvector
        keeps only a word's first 256 positions, so `<->` missed a phrase said after a word's 256th time
        (a long call saying "the" that often is common)."""
        return [f" {' '.join(phrase)} " for phrase in self.phrases if len(phrase) > 2]


def _fts5_phrase(phrase: tuple[str, ...]) -> str:
    # Terms hold only letters, digits and marks (search/terms.py): never a quote.
    return '"' + " ".join(phrase) + '"'


def _ts_phrase(phrase: tuple[str, ...]) -> str:
    """The phrase's neighbouring pairs (PostgreSQL indexes them beside the terms, the migration), so the
    GIN index narrows a phrase of common words to where it may be said rather than to every document
    holding its words; one term is itself. Two terms are their pair alone: it is indexed where the first is
    followed by the second in one utterance (no term holds PAIR), so the index answers exactly. Three or
    more: their pairs narrow, and the phrase is found in the terms (TextQuery.spaced_phrases)."""
    if len(phrase) == 1:
        return _lexeme(phrase[0])
    return "(" + " & ".join(_lexeme(a + PAIR + b) for a, b in pairwise(phrase)) + ")"


def _lexeme(term: str) -> str:
    return "'" + term.replace("'", "''").replace("\\", "\\\\") + "'"


def text_query(q: str) -> TextQuery:
    phrases: list[tuple[str, ...]] = []
    bare: list[str] = []
    for found in _QUOTED.finditer(q):
        phrase = tuple(terms(found.group(1)))
        if phrase:
            phrases.append(phrase)
    for word in _QUOTED.sub(" ", q).split():
        parts = tuple(terms(word))
        if parts:
            phrases.append(parts)  # "e-mail" is the phrase e mail
            bare.extend(parts)
    unique = tuple(dict.fromkeys(phrases))
    if not unique:
        raise UnsearchableQuery("q has no word to search for")
    if len(unique) > MAX_PHRASES or sum(len(p) for p in unique) > MAX_TERMS:
        raise QueryTooLong(f"q asks for more than {MAX_TERMS} words or {MAX_PHRASES} phrases")
    together = tuple(bare) if len(bare) > 1 and tuple(bare) not in unique else None
    return TextQuery(unique, together, frozenset(term for phrase in unique for term in phrase))


def phone_forms(q: str) -> list[str]:
    """The ways a call's number may be stored that `q` names, if `q` is a phone number: as typed, E.164
    (a number without a country code is read as North American, like our demo data), its digits."""
    text = q.strip()
    digits = "".join(c for c in text if c.isdigit())
    if not _PHONE.fullmatch(text) or not 7 <= len(digits) <= 15:
        return []
    forms = {text, digits, "+" + digits}
    try:
        parsed = phonenumbers.parse(text, None if text.startswith("+") else "US")
        forms.add(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
    except phonenumbers.NumberParseException:
        pass
    return sorted(forms)


def id_forms(q: str) -> list[str]:
    """What `q` may be as an id (ours, the provider's, a conversation's), if it is one token: as typed, and
    lower-cased (our ids are). Looking an id up costs an index probe, so any token is tried."""
    text = q.strip()
    if not text or len(text) > 128 or any(c.isspace() for c in text):
        return []
    return sorted({text, text.lower()})
