"""`make bench`: the recording read against its ceiling and against the typical implementation, measured
in one run on this machine, printed as one table.

Sets up what it needs (wrk from Debian's packages if missing), starts the service as in production (one
uvicorn worker, uvloop + httptools) pinned to one core with wrk on the other, seeds calls into SQLite,
drives each route with wrk on 127.0.0.1 for a bounded time, and reports req/s, p50/p99 and ratios.
Figures are only comparable within one run; the ratios are the point.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import timeit
from datetime import UTC, datetime
from pathlib import Path

import boto3
import httpx
from botocore.config import Config
from sqlalchemy import insert

from bench.service import environment, free_port, running
from tether_relay.auth.tokens import mint_token
from tether_relay.calls.models import Call, Recording
from tether_relay.db import create_engine
from tether_relay.organizations.models import Organization
from tether_relay.storage.sigv4 import presign_get

ORG = "org-bench"
REPOSITORY = Path(__file__).resolve().parents[1]  # uvicorn imports bench.app from here
R2 = {
    "endpoint": "https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com",
    "bucket": "recordings",
    "key_id": "AKIDBENCH",
    "secret": "bench-secret-access-key",
}
TRANSCRIPT_TEXT = "Agent: Hi, this is Alex from Example Corp.\nUser: Hey Alex, I am calling about my order."
TRANSCRIPT = [
    {"role": "agent", "message": "Hi, this is Alex from Example Corp.", "timestamp": 0.5},
    {"role": "user", "message": "Hey Alex, I am calling about my order.", "timestamp": 2.8},
]


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("installing wrk from Debian's packages…", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL)
    return shutil.which("wrk") or "wrk"


def pinned(core: int, command: list[str]) -> list[str]:
    """Pin to one core when there are two or more (the server on one, the load on the other)."""
    return (
        ["taskset", "-c", str(core), *command]
        if (os.cpu_count() or 1) >= 2 and shutil.which("taskset")
        else command
    )


async def seed(database_url: str, calls: int) -> str:
    engine = create_engine(database_url)
    now = datetime.now(UTC)
    async with engine.begin() as connection:
        await connection.execute(insert(Organization), [{"id": ORG, "created_at": now}])
        for start in range(0, calls, 5000):
            batch = range(start, min(calls, start + 5000))
            await connection.execute(
                insert(Call),
                [
                    {
                        "call_id": f"{i:024x}",
                        "organization_id": ORG,
                        "provider": "external",
                        "provider_call_id": f"bench-{i}",
                        "direction": "outbound",
                        "status": "completed",
                        "from_number": "+14165550100",
                        "to_number": "+14165550199",
                        "duration": 154.0,
                        "transcription_text": TRANSCRIPT_TEXT,
                        "transcription_data": TRANSCRIPT,
                        "transcription_status": "ready",
                        "transcription_fetched_at": now,
                        "created_at": now,
                        "updated_at": now,
                        "sort_time": now,
                    }
                    for i in batch
                ],
            )
            await connection.execute(
                insert(Recording),
                [
                    {
                        "recording_id": f"rec_{i:024x}",
                        "call_id": f"{i:024x}",
                        "storage_bucket": "recordings",
                        "storage_key": f"{ORG}/{i:024x}/rec_{i:024x}.mp3",
                        "content_type": "audio/mpeg",
                        "duration": 154.0,
                        "created_at": now,
                    }
                    for i in batch
                ],
            )
    await engine.dispose()
    return f"{calls // 2:024x}"


def wrk(binary: str, url: str, token: str, seconds: int, connections: int) -> dict[str, float]:
    output = subprocess.run(
        pinned(
            1,
            [
                binary,
                "-t1",
                f"-c{connections}",
                f"-d{seconds}s",
                "--latency",
                "-H",
                f"Authorization: Bearer {token}",
                url,
            ],
        ),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": rps,
        "p50_ms": _latency(output, "50%"),
        "p99_ms": _latency(output, "99%"),
        "non_2xx": float(errors.group(1)) if errors else 0.0,
    }


def _latency(output: str, percentile: str) -> float:
    match = re.search(rf"^\s+{re.escape(percentile)}\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    if match is None:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def signing_micros() -> tuple[float, float]:
    """µs per presigned URL: ours and botocore's (a reused client), same inputs."""
    client = boto3.client(
        "s3",
        endpoint_url=R2["endpoint"],
        aws_access_key_id=R2["key_id"],
        aws_secret_access_key=R2["secret"],
        region_name="auto",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    key = f"{ORG}/call/rec.mp3"
    ours = (
        timeit.timeit(
            lambda: presign_get(
                endpoint_url=R2["endpoint"],
                bucket=R2["bucket"],
                key=key,
                access_key_id=R2["key_id"],
                secret_access_key=R2["secret"],
                region="auto",
                expires_in=600,
            ),
            number=20_000,
        )
        / 20_000
    )
    theirs = (
        timeit.timeit(
            lambda: client.generate_presigned_url(
                "get_object", Params={"Bucket": R2["bucket"], "Key": key}, ExpiresIn=600
            ),
            number=2_000,
        )
        / 2_000
    )
    return ours * 1e6, theirs * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args()
    binary = ensure_wrk()
    jwt_secret = secrets.token_urlsafe(40)
    with tempfile.TemporaryDirectory() as folder:
        database_url = f"sqlite+aiosqlite:///{folder}/bench.db"
        env = environment(
            {
                "TETHER_DATABASE_URL": database_url,
                "TETHER_DATA_DIR": folder,
                "TETHER_JWT_SECRET": jwt_secret,
                "TETHER_SECRET_KEY": secrets.token_urlsafe(40),
                "TETHER_LOG_LEVEL": "warning",
                "TETHER_R2_ENDPOINT_URL": R2["endpoint"],
                "TETHER_R2_BUCKET": R2["bucket"],
                "TETHER_R2_ACCESS_KEY_ID": R2["key_id"],
                "TETHER_R2_SECRET_ACCESS_KEY": R2["secret"],
            }
        )
        subprocess.run(
            [sys.executable, "-m", "tether_relay.cli", "migrate"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        call_id = asyncio.run(seed(database_url, args.calls))
        port = free_port()
        uvicorn = [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.app:create_bench_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        with running(pinned(0, uvicorn), env, port=port, cwd=REPOSITORY) as server:
            token = mint_token(
                jwt_secret, user_id="bench", organization_id=ORG, role="ADMIN", ttl_seconds=3600
            )
            ours = f"{server.url}/api/calls/{call_id}/recording"
            answer = httpx.get(ours, headers={"Authorization": f"Bearer {token}"}).json()
            httpx.post(f"{server.url}/bench/ceiling", json=answer).raise_for_status()
            routes = {
                "ceiling (same JSON, no work)": f"{server.url}/bench/ceiling",
                "recording read (ours)": ours,
                "typical (ORM + botocore + pydantic)": f"{server.url}/bench/typical/{call_id}",
            }
            for url in routes.values():
                wrk(binary, url, token, 2, args.connections)  # warm up
            results = {
                name: wrk(binary, url, token, args.seconds, args.connections) for name, url in routes.items()
            }
    ours_us, botocore_us = signing_micros()
    report(results, ours_us, botocore_us, args)


def report(
    results: dict[str, dict[str, float]], ours_us: float, botocore_us: float, args: argparse.Namespace
) -> None:
    ceiling = results["ceiling (same JSON, no work)"]["rps"]
    typical = results["typical (ORM + botocore + pydantic)"]["rps"]
    print(
        f"\n{os.cpu_count()} cores; server on one, wrk -t1 -c{args.connections} on the other; "
        f"{args.seconds} s per route; {args.calls} calls in SQLite\n"
    )
    columns = ("route", "req/s", "p50 ms", "p99 ms", "x ceiling", "x typical")
    print(
        f"| {columns[0]:<36} | {columns[1]:>8} | {columns[2]:>7} | {columns[3]:>7} | {columns[4]:>9} "
        f"| {columns[5]:>9} | non-2xx |"
    )
    print(f"|{'-' * 38}|{'-' * 10}|{'-' * 9}|{'-' * 9}|{'-' * 11}|{'-' * 11}|---------|")
    for name, r in results.items():
        print(
            f"| {name:<36} | {r['rps']:>8.0f} | {r['p50_ms']:>7.2f} | {r['p99_ms']:>7.2f} | "
            f"{r['rps'] / ceiling:>9.2f} | {r['rps'] / typical:>9.2f} | {r['non_2xx']:>7.0f} |"
        )
    print(
        f"\nSigV4 presign: ours {ours_us:.1f} µs per URL, botocore {botocore_us:.1f} µs "
        f"({ours_us / botocore_us:.3f}x botocore's time)"
    )


if __name__ == "__main__":
    main()
