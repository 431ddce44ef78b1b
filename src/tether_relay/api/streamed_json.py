"""A JSON object one of whose strings is a `data:` URI of a byte stream, written as the bytes arrive.

A Twilio recording can be hundreds of MB; building its base64 in memory costs 1.33x its size per
concurrent reader, plus the JSON copy. Here the object is rendered once with a placeholder where the
string goes, and the stream is base64-encoded between the two halves in 3-byte-aligned pieces (so the
pieces concatenate to the base64 of the whole), through pybase64's SIMD encoder. The bytes equal
`orjson.dumps` of the object with the whole URI in place (tests/unit/test_streamed_json.py).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pybase64


async def json_with_data_uri(
    fields: dict[str, Any], name: str, media_type: str, chunks: AsyncIterator[bytes]
) -> AsyncIterator[bytes]:
    """`orjson.dumps(fields)` with `fields[name]` = `data:{media_type};base64,` + base64 of `chunks`."""
    placeholder = secrets.token_hex(16).encode()  # cannot occur anywhere else in the rendered object
    before, after = orjson.dumps({**fields, name: placeholder.decode()}).split(b'"' + placeholder + b'"')
    yield before + orjson.dumps(f"data:{media_type};base64,")[:-1]  # the string, left open
    carry = b""
    async for chunk in chunks:
        if carry:
            chunk = carry + chunk
        aligned = len(chunk) - len(chunk) % 3
        carry = chunk[aligned:]
        if aligned:
            yield pybase64.b64encode(memoryview(chunk)[:aligned])
    yield pybase64.b64encode(carry) + b'"' + after
