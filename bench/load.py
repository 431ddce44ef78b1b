"""Load on 127.0.0.1: wrk (installed from Debian's packages if missing) pinned to its own core."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("installing wrk from Debian's packages…", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL)
    return shutil.which("wrk") or "wrk"


def two_cores() -> bool:
    return (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None


def pinned(core: int, command: list[str]) -> list[str]:
    """Pin to one core when there are two or more (the server on one, the load on the other)."""
    return ["taskset", "-c", str(core), *command] if two_cores() else command


@dataclass(frozen=True)
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int


def wrk(binary: str, url: str, header: str, seconds: int, connections: int) -> Load:
    command = [binary, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-H", header, url]
    output = subprocess.run(pinned(1, command), check=True, capture_output=True, text=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return Load(
        rps=float(rps.group(1)) if rps else 0.0,
        p50_ms=_latency(output, "50%"),
        p99_ms=_latency(output, "99%"),
        non_2xx=int(errors.group(1)) if errors else 0,
    )


def _latency(output: str, percentile: str) -> float:
    match = re.search(rf"^\s+{re.escape(percentile)}\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    if match is None:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
