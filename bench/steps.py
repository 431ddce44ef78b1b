"""`python -m bench.steps REV...`: what each commit's optimisation bought, measured in one run.

For each revision (oldest first), a worktree of it with its own locked environment serves the cached
recording read as `make bench` starts it, and wrk measures, in this order: the read as deployed (logs at
info), the read with logs at warning, and the bare ceiling, each on a service of its own on the same
data. Each revision's ratios are to its own bare ceiling; revisions are comparable only within one run.

    python -m bench.steps 8bc8858 ca236d9 c55d6fc f23c147 HEAD
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
UV = str(REPOSITORY / ".tools" / "bin" / "uv")

# Runs inside each worktree, with its own bench/ and src/: only the helpers every measured revision has.
CHILD = """
import asyncio, sys, tempfile
import httpx
from bench.load import ensure_wrk, wrk
from bench.run import bearer, service, token
from bench.seed import seed_calls

seconds = int(sys.argv[1])
binary = ensure_wrk()
header = f"Authorization: Bearer {token()}"
rows = {}
with tempfile.TemporaryDirectory() as folder:
    url = f"sqlite+aiosqlite:///{folder}/steps.db"
    for name, options in (("info", {}), ("warning", {"log_level": "warning"}), ("bare", {"bare": True})):
        with service(url, folder, **options) as server:
            if name == "info":
                call_id = asyncio.run(seed_calls(url, 1000))
                answer = httpx.get(f"{server.url}/api/calls/{call_id}/recording", headers=bearer()).json()
            httpx.post(f"{server.url}/bench/ceiling", json=answer).raise_for_status()
            path = "/bench/ceiling" if name == "bare" else f"/api/calls/{call_id}/recording"
            wrk(binary, server.url + path, header, 2, 32)
            rows[name] = wrk(binary, server.url + path, header, seconds, 32)
print("ROW", rows["info"].rps, rows["info"].p99_ms, rows["warning"].rps, rows["bare"].rps)
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("revisions", nargs="+")
    parser.add_argument("--seconds", type=int, default=8)
    args = parser.parse_args()
    print("| revision | read req/s | p99 ms | x bare | logs at warning x default | bare req/s |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for revision in args.revisions:
            tree = Path(scratch) / revision
            git = ["git", "-C", str(REPOSITORY)]
            subprocess.run(
                [*git, "worktree", "add", "--detach", str(tree), revision], check=True, capture_output=True
            )
            try:
                env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
                subprocess.run([UV, "sync", "--frozen", "--quiet"], cwd=tree, env=env, check=True)
                child = subprocess.run(
                    [str(tree / ".venv" / "bin" / "python"), "-c", CHILD, str(args.seconds)],
                    cwd=tree,
                    env=env,
                    capture_output=True,
                    text=True,
                )
                short = subprocess.run(
                    [*git, "log", "-1", "--format=%h %s", revision], capture_output=True, text=True
                ).stdout.strip()[:70]
                if "ROW" not in child.stdout:  # a revision that does not start is a row, not the end
                    last = (child.stderr.strip().splitlines() or ["no output"])[-1][:80]
                    print(f"| {short} | does not run: {last} | | | | |", flush=True)
                    continue
                info, p99, warning, bare = (float(x) for x in child.stdout.split("ROW", 1)[1].split())
                print(
                    f"| {short} | {info:,.0f} | {p99:.2f} | {info / bare:.2f} | {warning / info:.2f} "
                    f"| {bare:,.0f} |",
                    flush=True,
                )
            finally:
                subprocess.run([*git, "worktree", "remove", "--force", str(tree)], check=False)


if __name__ == "__main__":
    main()
