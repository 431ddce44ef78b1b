"""`python -m bench.profile`: where the cached recording read spends its time, as deployed.

Starts the service exactly as `make bench` does (bench/run.py's `service`: `run_server`, logging at info,
pinned to core 0), seeds calls, drives wrk at the read from core 1 and samples the server with py-spy
(also on core 1) for the same seconds. Prints the functions with the most samples, by own time and by
time including callees, and writes the collapsed stacks for a flame graph (`--out`).

    python -m bench.profile [--seconds 15] [--database postgres] [--log-level warning] [--out stacks.txt]
    python -m bench.profile --stacks stacks.txt   # the report of an earlier --out, e.g. another revision's
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx
from tests.fakes.loopback import running as serving

from bench.load import ensure_wrk, pinned, wrk
from bench.run import bearer, postgres_database, service, token
from bench.seed import seed_calls


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--log-level", default=None)
    parser.add_argument("--route", default="recording", choices=["recording", "ceiling"])
    parser.add_argument("--tracing", action="store_true", help="export spans to a loopback collector")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--out", type=Path, default=None, help="collapsed stacks (flamegraph input)")
    parser.add_argument("--stacks", type=Path, default=None, help="report these stacks, sample nothing")
    args = parser.parse_args()
    if args.stacks:
        _report(args.stacks.read_text(), args.top)
        return
    binary = ensure_wrk()
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    with tempfile.TemporaryDirectory() as folder:
        if args.database == "sqlite":
            stacks = _profile(binary, spy, f"sqlite+aiosqlite:///{folder}/profile.db", folder, args)
        else:
            with postgres_database(args.postgres_url) as url:
                if url is None:
                    raise SystemExit("PostgreSQL is not reachable")
                stacks = _profile(binary, spy, url, folder, args)
    if args.out:
        args.out.write_text(stacks)
    _report(stacks, args.top)


def _profile(binary: str, spy: str, database_url: str, folder: str, args: argparse.Namespace) -> str:
    if not args.tracing:
        return _sampled(binary, spy, database_url, folder, args, None)
    from bench.run import SpanSink  # imported here: revisions before tracing have no SpanSink

    with serving(SpanSink()) as sink:
        return _sampled(
            binary, spy, database_url, folder, args, {"OTEL_EXPORTER_OTLP_ENDPOINT": sink.base_url}
        )


def _sampled(
    binary: str,
    spy: str,
    database_url: str,
    folder: str,
    args: argparse.Namespace,
    otel: dict[str, str] | None,
) -> str:
    options: dict[str, Any] = {"otel": otel} if otel else {}  # revisions before tracing take no `otel`
    with service(database_url, folder, log_level=args.log_level, **options) as server:
        call_id = asyncio.run(seed_calls(database_url, args.calls))
        url = f"{server.url}/api/calls/{call_id}/recording"
        answer = httpx.get(url, headers=bearer()).json()
        httpx.post(f"{server.url}/bench/ceiling", json=answer).raise_for_status()
        if args.route == "ceiling":
            url = f"{server.url}/bench/ceiling"
        header = f"Authorization: Bearer {token()}"
        wrk(binary, url, header, 2, args.connections)  # warm up
        raw = Path(folder) / "stacks.txt"
        record = [
            spy,
            "record",
            "--pid",
            str(server.process.pid),
            "--format",
            "raw",
            "--rate",
            "250",
            "--gil",
        ]
        record += ["--duration", str(args.seconds), "--output", str(raw)]
        sampler = subprocess.Popen(pinned(1, record), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        load = wrk(binary, url, header, args.seconds, args.connections)
        sampler.wait(timeout=args.seconds + 30)
        print(f"{args.route}: {load.rps:,.0f} req/s, p50 {load.p50_ms:.2f} ms, p99 {load.p99_ms:.2f} ms")
        return raw.read_text()


def _report(stacks: str, top: int) -> None:
    """Own and inclusive samples per frame (`function (file:line)` without the line, so a function's
    lines add up)."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    parts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in stacks.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_function(frame) for frame in stack.split(";")]
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
        for part, marks in PARTS.items():
            if any(mark in frame for frame in frames for mark in marks):
                parts[part] += count
    print(f"\n{total:,} samples\n\nown time:")
    for frame, count in own.most_common(top):
        print(f"{100 * count / total:6.1f}%  {frame}")
    print("\nincluding callees:")
    for frame, count in inclusive.most_common(top * 2):
        print(f"{100 * count / total:6.1f}%  {frame}")
    print("\nby part of the read (docs/performance.md's table):")
    for part in PARTS:
        print(f"{100 * parts[part] / total:6.1f}%  {part}")


# Parts of the read: a part's samples are the stacks with a frame containing one of its marks (a function
# or a file). The presign and the query are inside the endpoint; the rest are disjoint.
PARTS = {
    "FastAPI's dependency resolution": ("solve_dependencies (",),
    "our endpoint (snapshot query, presign, render)": ("get_call_recording (",),
    "of which the SigV4 presign": ("presign_get (",),
    "of which the snapshot query": ("CallSnapshots.visible (",),
    "logging": ("logging/", "tether_relay/logs.py"),
    "writing the answer (uvicorn's send)": ("RequestResponseCycle.send (",),
}


def _function(frame: str) -> str:
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "src/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})"


if __name__ == "__main__":
    main()
