"""HTTP byte ranges (RFC 9110 §14), for the playback proxy and the local store's signed URLs.

One range is served. A request for several (`bytes=0-1,5-6`) is answered with the first, as a single
206; browsers' media elements only ever ask for one. A header we cannot parse, or in another unit, is
ignored and the whole file sent (§14.2 lets a server ignore Range).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tether_relay.digits import MAX_DIGITS, parse_uint
from tether_relay.errors import AppError

_SPEC = re.compile(r"^\s*([0-9]*)\s*-\s*([0-9]*)\s*$")
# A position past any file: what a number too long to parse means (first: 416; last: to the end).
BEYOND = 10**MAX_DIGITS


class RangeNotSatisfiable(AppError):
    status_code = 416
    code = "RANGE_NOT_SATISFIABLE"
    message = "The requested range is outside the recording"

    def __init__(self, size: int) -> None:
        super().__init__(headers={"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes"})


@dataclass(frozen=True, slots=True)
class RangeRequest:
    """`first-last`, `first-` (last None) or a suffix `-length` (first None)."""

    first: int | None
    last: int | None


@dataclass(frozen=True, slots=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse(header: str | None) -> RangeRequest | None:
    if not header:
        return None
    unit, _, specs = header.partition("=")
    if unit.strip().lower() != "bytes" or not specs:
        return None
    match = _SPEC.match(specs.split(",")[0])
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first = _position(match.group(1))
    last = _position(match.group(2))
    if first is not None and last is not None and last < first:
        return None  # invalid syntax: ignored, per §14.1.1
    return RangeRequest(first, last)


def resolve(request: RangeRequest, size: int) -> ByteRange:
    """The bytes of a `size`-byte file that `request` selects; RangeNotSatisfiable if none."""
    if request.first is None:  # suffix: the last N bytes
        assert request.last is not None
        if request.last == 0 or size == 0:
            raise RangeNotSatisfiable(size)
        return ByteRange(max(0, size - request.last), size - 1)
    if request.first >= size:
        raise RangeNotSatisfiable(size)
    last = size - 1 if request.last is None else min(request.last, size - 1)
    return ByteRange(request.first, last)


def _position(digits: str) -> int | None:
    if not digits:
        return None
    value = parse_uint(digits)
    return BEYOND if value is None else value


def select(
    range_header: str | None, if_range: str | None, size: int | None, etag: str | None
) -> ByteRange | None:
    """The one range a request asks for, or None for the whole file. A Range we cannot parse or in another
    unit is ignored, and so is one whose If-Range is not the file's current ETag (a date, or a stale
    tag: the client's earlier bytes belong to another version; RFC 9110 §13.1.5). RangeNotSatisfiable if
    it selects nothing."""
    requested = parse(range_header)
    if requested is None or size is None:
        return None
    if if_range is not None and (etag is None or if_range.strip() != etag):
        return None
    return resolve(requested, size)
