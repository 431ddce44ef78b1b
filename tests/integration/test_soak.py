"""The soak script in its short form (bench/soak.py runs five minutes by default): zero errors under a
steady mixed load. Its figures are printed (`pytest -s`), not asserted: tests assert behaviour."""

from __future__ import annotations

import json

import pytest
from bench.soak import soak

# Starts service processes, browsers or long runs: `make test` skips it; CI and `make test-all` run it.
pytestmark = pytest.mark.slow


async def test_a_short_soak_has_no_errors() -> None:
    result = await soak(seconds=6, concurrency=8, calls=10, warmup=2)

    print(json.dumps(result))
    assert result["requests"] > 0
    assert result["errors"] == 0
    assert set(result["mix"]) == {"recording+audio", "call", "history"}
