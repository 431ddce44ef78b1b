"""The streamed recording body equals the JSON of the whole object, for any audio size and chunking."""

from __future__ import annotations

import base64
import json
import random
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from tether_relay.api.streamed_json import json_with_data_uri

FIELDS: dict[str, Any] = {
    "success": True,
    "audioData": None,
    "duration": 154.5,
    "recordingId": "RE" + "a" * 32,
    "from": "+14165550100",
    "transcriptionText": 'Agent: "quoted" \\ back-slashed, ünïcödé, 你好, \u2028',
    "transcriptionData": [{"role": "agent", "message": "Hi\nthere", "timestamp": 0.5}],
}


async def pieces(data: bytes, sizes: list[int]) -> AsyncIterator[bytes]:
    start = 0
    for size in sizes:
        yield data[start : start + size]
        start += size
    if start < len(data):
        yield data[start:]


async def streamed(data: bytes, sizes: list[int], fields: dict[str, Any] = FIELDS) -> bytes:
    parts = [
        part async for part in json_with_data_uri(fields, "audioData", "audio/mpeg", pieces(data, sizes))
    ]
    return b"".join(parts)


def whole(data: bytes, fields: dict[str, Any] = FIELDS) -> dict[str, Any]:
    return {**fields, "audioData": "data:audio/mpeg;base64," + base64.b64encode(data).decode()}


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 5, 6, 7, 65535, 65536, 65537, 200_003])
async def test_every_size_in_one_chunk_equals_the_whole_json(size: int) -> None:
    data = random.Random(size).randbytes(size)
    body = await streamed(data, [size])
    assert json.loads(body) == whole(data)
    assert body == orjson.dumps(whole(data))  # byte for byte, key order kept


@pytest.mark.parametrize("seed", range(25))
async def test_any_chunking_equals_the_whole_json(seed: int) -> None:
    rng = random.Random(seed)
    data = rng.randbytes(rng.randrange(0, 50_000))
    sizes = [rng.choice([0, 1, 2, 3, 4, 5, rng.randrange(1, 9000)]) for _ in range(rng.randrange(1, 40))]
    assert json.loads(await streamed(data, sizes)) == whole(data)


async def test_the_placeholder_cannot_collide_with_field_values() -> None:
    # Values that look like the rendered placeholder's surroundings still come out intact.
    fields = {**FIELDS, "transcriptionText": '"audioData": "x"', "recordingId": '""'}
    data = b"\x00\xff" * 1000
    assert json.loads(await streamed(data, [7, 1, 300], fields)) == whole(data, fields)
