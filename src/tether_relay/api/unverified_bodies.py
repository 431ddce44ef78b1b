"""What bodies that nobody has verified yet may hold, per process.

The ElevenLabs webhook's signature covers its body, so a stranger with a fresh timestamp and any `v0`
gets the body read (up to TETHER_MAX_BODY_BYTES) before it can be refused: eight strangers sending 60 MiB
each held a gigabyte. Such bodies share a budget of bytes, reserved by their declared length (the cap for
a chunked one) before a byte is read; past it the answer is 503 with Retry-After, and the memory stays
bounded. Each must also arrive whole within `deadline` seconds (a datacenter sends 64 MiB in a few), so a
drip cannot hold a reservation for hours.
"""

from __future__ import annotations

import asyncio

from fastapi import Request

from tether_relay.digits import parse_uint
from tether_relay.errors import RequestTimeout, ServiceUnavailable


class UnverifiedBodies:
    def __init__(self, budget_bytes: int, cap_bytes: int, deadline_seconds: float) -> None:
        self._budget, self._cap, self._deadline = budget_bytes, cap_bytes, deadline_seconds
        self._held = 0

    async def read(self, request: Request) -> bytes:
        declared = parse_uint(request.headers.get("content-length", ""))
        size = self._cap if declared is None else min(declared, self._cap)
        if self._held + size > self._budget:
            raise ServiceUnavailable(
                "Too many unverified webhook bodies at once", headers={"Retry-After": "5"}
            )
        self._held += size
        try:
            async with asyncio.timeout(self._deadline):
                return await request.body()
        except TimeoutError:
            raise RequestTimeout("The request's body did not arrive in time") from None
        finally:
            self._held -= size
