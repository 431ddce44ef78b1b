"""Download throughput of one streamed file through httpx (the service's provider client) and through
aiohttp, same URL, same process, one after the other: `python -m bench.clients URL HEADER ROUNDS`.

bench/run.py runs it pinned to the service's core against the Twilio fake: it is the measured cause of
the gap between a Twilio read and a plain download (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import sys
import time

import aiohttp
import httpx
import uvloop


async def with_httpx(url: str, headers: dict[str, str], rounds: int) -> float:
    received = 0
    async with httpx.AsyncClient(timeout=60) as client:
        started = time.perf_counter()
        for _ in range(rounds):
            async with client.stream("GET", url, headers=headers) as response:
                async for chunk in response.aiter_bytes():
                    received += len(chunk)
        return received / (time.perf_counter() - started) / 2**20


async def with_aiohttp(url: str, headers: dict[str, str], rounds: int) -> float:
    received = 0
    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        for _ in range(rounds):
            async with session.get(url, headers=headers) as response:
                async for chunk in response.content.iter_chunked(256 * 1024):
                    received += len(chunk)
        return received / (time.perf_counter() - started) / 2**20


def main() -> None:
    url, header, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    name, _, value = header.partition(": ")
    headers = {name: value}
    uvloop.install()
    for _ in range(2):  # alternate, so neither gets a warmer machine
        print(f"httpx {asyncio.run(with_httpx(url, headers, rounds)):.0f}")
        print(f"aiohttp {asyncio.run(with_aiohttp(url, headers, rounds)):.0f}")


if __name__ == "__main__":
    main()
