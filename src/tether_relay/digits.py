"""Integers from text a client or a provider sent (headers, query parameters, signature fields).

`str.isdigit()` admits characters `int()` refuses (`"²"`), and `int()` refuses more than 4,300 digits: both
were 500s. Everything below the API parses such integers here instead."""

from __future__ import annotations

import re

_ASCII_DIGITS = re.compile(r"[0-9]+")
MAX_DIGITS = 18  # fits a signed 64-bit column; far beyond any size, time or count we deal in


def parse_uint(text: str, *, max_digits: int = MAX_DIGITS) -> int | None:
    """The non-negative integer `text` spells in ASCII digits, or None (other characters, or too long)."""
    if len(text) > max_digits or not _ASCII_DIGITS.fullmatch(text):
        return None
    return int(text)
