"""Finding card numbers, SSNs, phone numbers and e-mail addresses in an utterance, written or spoken.

Offline and deterministic: no model. Spoken numbers become digits first (single digit words by us, so
"eight hundred five five five" keeps its six digits; compounds such as "forty five" by text2num), then
every window of consecutive numeric tokens is tested: a card is 13 to 19 digits passing Luhn's checksum, an
SSN nine digits with a valid area, group and serial, a phone number what `phonenumbers` calls possible.
The longest classified windows win. E-mail addresses are matched written (`a@b.c`) and spoken
("john dot smith at gmail dot com"). Every finding is a span of the original text, whole tokens only.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Literal

import phonenumbers
from text_to_num import alpha2digit

Entity = Literal["CREDIT_CARD", "US_SSN", "PHONE_NUMBER", "EMAIL_ADDRESS"]
ENTITIES: tuple[Entity, ...] = ("CREDIT_CARD", "US_SSN", "PHONE_NUMBER", "EMAIL_ADDRESS")
Kind = Entity | Literal["UNCHECKED"]  # what a finding is: a kind asked for, or text too long to read


@dataclass(frozen=True, slots=True)
class Found:
    start: int  # character offsets in the utterance's text, whole tokens
    end: int
    entity: Kind


@dataclass(frozen=True, slots=True)
class _Token:
    start: int
    end: int
    text: str


_DIGIT_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
# What speech recognition writes for a digit said among digits ("for one one one" is 4111).
_HOMOPHONES = {"oh": "0", "o": "0", "for": "4", "to": "2", "too": "2", "ate": "8", "won": "1", "niner": "9"}
_REPEATS = {"double": 2, "triple": 3}
_AMONG_DIGITS = {*_DIGIT_WORDS, *_REPEATS, "oh", "o"}
_TENS = {"twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}
# Said or written between groups of digits (fillers too: speech recognition keeps them).
_JOINERS = {"-", "dash", "hyphen", "/", "um", "uh", "uhm", "er", "erm", "ah", "hmm"}
# Digits with any punctuation among them (an en dash, "4111_1111", "(415)"), no letters.
_NUMERIC = re.compile(r"^\+?[^\w]*\d[\d\W_]*$")
_DIGITS_WITH_OS = re.compile(r"^(?=.*\d)(?=.*o)[\do\W_]+$")
_LONGEST = 19  # digits in a card number: no window of more is tested
# A message of more words than this is not read (aligning spoken numbers to digits costs the square of
# its length): it is removed whole, as UNCHECKED. Nobody says 2,000 words in one breath.
MAX_TOKENS = 2000
_EDGE_PUNCTUATION = ".,;:!?\"'()[]{}"
_WRITTEN_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_EMAIL_LINKS = {"dot": ".", "period": ".", "underscore": "_", "dash": "-", "hyphen": "-"}
_TLD = re.compile(r"^[a-z]{2,24}$")
_WRITTEN_LOCAL = re.compile(r"^[\w.+'-]+$")
_WRITTEN_DOMAIN = re.compile(r"^[\w-]+(?:\.[\w-]+)*\.[a-z]{2,24}$")
# Words that introduce an address rather than belong to it.
_LEAD_INS = {
    "is", "its", "it's", "email", "e-mail", "mail", "address", "me", "my", "to", "the", "and", "or", "was",
    "send", "write", "contact", "reach", "try", "use", "under", "as", "on", "it", "that", "i", "you", "us",
}  # fmt: skip


def find(text: str, entities: Collection[str]) -> list[Found]:
    """What `text` holds of `entities`, in order, never overlapping (offsets into `text` itself)."""
    clean, origin = _normalised(text)
    tokens = [_Token(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", clean)]
    if len(tokens) > MAX_TOKENS:
        return [Found(0, len(text), "UNCHECKED")]
    found: list[Found] = []
    if {"CREDIT_CARD", "US_SSN", "PHONE_NUMBER"} & set(entities):
        found += _numbers(tokens, entities)
    if "EMAIL_ADDRESS" in entities:
        found += _emails(clean, tokens)
    # A finding ends where the next character kept begins: marks dropped after its last one go with it.
    ends = [*origin[1:], len(text)]
    return [Found(origin[f.start], ends[f.end - 1], f.entity) for f in _without_overlaps(found)]


# "(at)", "[dot]": the ways an address is written so that machines miss it.
_BRACKETED = re.compile(r"[\(\[\{<]\s*(at|dot)\s*[\)\]\}>]", re.IGNORECASE)


def _normalised(text: str) -> tuple[str, list[int]]:
    """`text` as the detector reads it, and for each of its characters the index of the one in `text` it
    came from: compatibility forms folded (NFKC: full-width digits, ligatures), invisible format
    characters and combining marks dropped (a zero-width space inside a number does not hide it),
    bracketed "(at)" and "(dot)" spaced out as words."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = unicodedata.normalize("NFKC", char)
        for part in folded:
            if unicodedata.category(part) in ("Cf", "Mn", "Me"):
                continue
            chars.append(part)
            origin.append(index)
    clean = "".join(chars)
    spaced: list[str] = []
    mapped: list[int] = []
    position = 0
    for match in _BRACKETED.finditer(clean):
        spaced += chars[position : match.start()]
        mapped += origin[position : match.start()]
        word = f" {match.group(1).lower()} "
        spaced += list(word)
        mapped += [origin[match.start()]] * len(word)
        position = match.end()
    spaced += chars[position:]
    mapped += origin[position:]
    return "".join(spaced), mapped


# --- numbers ---------------------------------------------------------------------------------------


def _numbers(tokens: list[_Token], entities: Collection[str]) -> list[Found]:
    words, origin = _spoken_digits(tokens)
    converted = alpha2digit(" ".join(words), "en").split(" ") if words else []
    spans = _origins(words, converted, origin)
    windows: list[tuple[int, int, Entity]] = []
    for first, last in _numeric_runs(converted):
        for i in range(first, last + 1):
            for j in range(i, last + 1):
                if len(_digits(converted[i : j + 1])) > _LONGEST:
                    break
                entity = _classify(converted[i : j + 1])
                if entity is not None and entity in entities:
                    windows.append((i, j, entity))
    # Longest first: a card's digits also hold phone-shaped windows.
    windows.sort(key=lambda w: (-len(_digits(converted[w[0] : w[1] + 1])), w[0]))
    taken: set[int] = set()
    found = []
    for i, j, entity in windows:
        if taken.isdisjoint(range(i, j + 1)):
            taken.update(range(i, j + 1))
            first_token, last_token = spans[i][0], spans[j][1]
            found.append(Found(tokens[first_token].start, tokens[last_token].end, entity))
    return found


def _spoken_digits(tokens: list[_Token]) -> tuple[list[str], list[int]]:
    """Words for text2num with single digits already digits ("double four" is "4 4"; "oh" is 0 beside
    other digits, as are "for", "to" and "ate"; "forty five" left to text2num), each with the index of
    the token it came from."""
    words: list[str] = []
    origin: list[int] = []
    bare = [_bare(t.text) for t in tokens]
    for index, word in enumerate(bare):
        if _DIGITS_WITH_OS.match(word):
            word = word.replace("o", "0")  # "415-555-o132": a letter O typed or heard for a zero
        for part in re.split(r"(?<=[a-z])-(?=[a-z])", word):  # "four-one-one", not "415-555"
            digit = _DIGIT_WORDS.get(part)
            if part in _HOMOPHONES:  # a digit only beside another digit
                beside = _is_digit_word(bare, index - 1) or _is_digit_word(bare, index + 1)
                digit = _HOMOPHONES[part] if beside else None
            if words and words[-1] in _TENS and part != "zero":
                digit = None  # "forty five" is 45: text2num's to join
            if digit is not None and words and words[-1] in _REPEATS and origin[-1] == index - 1:
                count = _REPEATS[words.pop()]
                origin.pop()
                words += [digit] * count
                origin += [index - 1] + [index] * (count - 1)  # from "double" to the digit
                continue
            words.append(digit if digit is not None else part)
            origin.append(index)
    return words, origin


def _is_digit_word(bare: list[str], index: int) -> bool:
    """A digit, said or written, or a word said among digits ("double", "oh")."""
    return 0 <= index < len(bare) and (bare[index] in _AMONG_DIGITS or bare[index].isdigit())


def _bare(token: str) -> str:
    return token.lower().strip(_EDGE_PUNCTUATION) or token.lower()


def _origins(words: list[str], converted: list[str], origin: list[int]) -> list[tuple[int, int]]:
    """For each converted word, the first and last original token it came from."""
    if converted == words:  # nothing was converted (the common case): word for word
        return [(o, o) for o in origin]
    spans: list[tuple[int, int]] = [(0, 0)] * len(converted)
    matcher = difflib.SequenceMatcher(None, words, converted, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for k in range(j2 - j1):
                spans[j1 + k] = (origin[i1 + k], origin[i1 + k])
        elif j2 > j1:  # replaced (or, never seen, inserted): the whole stretch of original tokens
            first = origin[i1] if i2 > i1 else origin[max(i1 - 1, 0)]
            last = origin[i2 - 1] if i2 > i1 else first
            for k in range(j1, j2):
                spans[k] = (first, last)
    return spans


def _numeric_runs(words: list[str]) -> Iterator[tuple[int, int]]:
    """Maximal stretches of numeric words (joiners such as "dash" allowed inside)."""
    start: int | None = None
    for index, word in enumerate([*words, ""]):
        numeric = bool(_NUMERIC.match(word.strip(_EDGE_PUNCTUATION.replace("(", "").replace(")", ""))))
        if numeric and start is None:
            start = index
        elif not numeric and not (start is not None and _joins(word)):
            if start is not None:
                last = index - 1
                while _joins(words[last]):
                    last -= 1
                yield start, last
            start = None


def _joins(word: str) -> bool:
    """Said or written between groups of digits: "dash", or punctuation alone ("...", "-", "/")."""
    return word in _JOINERS or (word != "" and not any(c.isalnum() for c in word))


def _digits(words: list[str]) -> str:
    return "".join(c for word in words for c in word if c.isdigit())


def _classify(words: list[str]) -> Entity | None:
    digits = _digits(words)
    if 13 <= len(digits) <= 19 and _luhn(digits):
        return "CREDIT_CARD"
    if len(digits) == 9 and _ssn(digits):
        return "US_SSN"
    if 7 <= len(digits) <= 15 and _phone(digits, international=words[0].startswith("+")):
        return "PHONE_NUMBER"
    return None


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _ssn(digits: str) -> bool:
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


_POSSIBLE = {phonenumbers.ValidationResult.IS_POSSIBLE, phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY}


def _phone(digits: str, *, international: bool) -> bool:
    candidates = [f"+{digits}"] if international else [digits, f"+{digits}"] if len(digits) > 10 else [digits]
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, "US")
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number_with_reason(number) in _POSSIBLE:
            return True
    return False


# --- e-mail addresses -----------------------------------------------------------------------------


def _emails(text: str, tokens: list[_Token]) -> list[Found]:
    found = [Found(m.start(), m.end(), "EMAIL_ADDRESS") for m in _WRITTEN_EMAIL.finditer(text)]
    bare = [_bare(t.text) for t in tokens]
    for at, word in enumerate(bare):
        if word != "at":
            continue
        first = _local_part_start(bare, at)
        last = _domain_end(bare, at)
        if first is not None and last is not None:
            found.append(Found(tokens[first].start, tokens[last].end, "EMAIL_ADDRESS"))
    return found


def _is_name(word: str) -> bool:
    return word.isalnum() and word not in _EMAIL_LINKS and word != "at"


def _local_part_start(bare: list[str], at: int) -> int | None:
    """The first token of "john dot smith" before "at" (single letters spelt out count as one name)."""
    index = at - 1
    if index < 0 or not (_is_name(bare[index]) or _WRITTEN_LOCAL.match(bare[index])):
        return None
    while index >= 2 and bare[index - 1] in _EMAIL_LINKS and _is_name(bare[index - 2]):
        index -= 2
    while index >= 1 and len(bare[index - 1]) == 1 and bare[index - 1].isalnum() and len(bare[index]) == 1:
        index -= 1
    # "jane doe at …": a name said in two words is one local part; when unsure, one word more goes.
    if index >= 1 and _is_name(bare[index - 1]) and bare[index - 1] not in _LEAD_INS:
        index -= 1
    return index


def _domain_end(bare: list[str], at: int) -> int | None:
    """The last token of "gmail dot com" after "at": at least one "dot", ending in a top-level domain."""
    index = at + 1
    if index < len(bare) and _WRITTEN_DOMAIN.match(bare[index]):
        return index  # "jane at example.com": said and written at once
    if index >= len(bare) or not _is_name(bare[index]):
        return None
    last = None
    while (
        index + 2 < len(bare) + 0
        and _EMAIL_LINKS.get(bare[index + 1]) in (".", "-", "_")
        and _is_name(bare[index + 2])
    ):
        index += 2
        if _EMAIL_LINKS[bare[index - 1]] == "." and _TLD.match(bare[index]):
            last = index
    return last


# --- both -------------------------------------------------------------------------------------------


def _without_overlaps(found: list[Found]) -> list[Found]:
    """In order of the text; where two overlap, one span covering both (the first's entity)."""
    merged: list[Found] = []
    for item in sorted(found, key=lambda f: (f.start, -f.end)):
        if merged and item.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = Found(last.start, max(last.end, item.end), last.entity)
        else:
            merged.append(item)
    return merged
