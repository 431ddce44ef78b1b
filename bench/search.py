"""`make bench`'s search part: GET /api/calls/search over 100,000 calls of 20 utterances each, on SQLite and
on PostgreSQL, the service started as in production (bench/run.py's `service`), one client asking one
query at a time, in several rounds (new queries each): p50 and p99 per kind of query and over all, round
by round, beside the size of each database's index. `python -m bench.search --calls N` for a quicker run;
`--baseline REVISION` also starts the service of that commit (on this checkout's packages and database
schema) and sends each query to both, interleaved, to give ratios measured in one run, and counts the
queries whose answers differ.

The transcripts are generated (seeded): the 60 commonest English words, then 6,000 made-up words whose
frequencies fall off as people's words do (Zipf); the terms indexed are made by the service's own
tokenizer (search/terms.py), inserted in bulk as the repository writes them.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, text

from bench.run import REPOSITORY, bearer, postgres_database, service
from bench.seed import ORG
from tether_relay.calls.models import Call, SearchDocument
from tether_relay.db import create_engine
from tether_relay.migrate import upgrade
from tether_relay.organizations.models import Organization
from tether_relay.search.terms import indexed
from tether_relay.transcripts.model import to_text

_COMMON = (
    "the i you to a and it is that of my for on this can be in have with your what so we do not just "
    "me will are about like there yes no okay please thank know get was would need want call order help "
    "account card number time one if at an how did now back"
)
COMMON = _COMMON.split()
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
BATCH = 2000
UTTERANCES = 20


def vocabulary(rng: random.Random, size: int) -> list[str]:
    made: set[str] = set()
    while len(made) < size:
        made.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return COMMON + sorted(made)


def transcripts(rng: random.Random, words: list[str], calls: int) -> Any:
    weights = [1 / (rank + 1) for rank in range(len(words))]
    for _ in range(calls):
        said = rng.choices(words, weights, k=UTTERANCES * 12)
        yield [
            {
                "role": "agent" if i % 2 == 0 else "user",
                "message": " ".join(said[i * 12 : i * 12 + rng.randint(6, 12)]).capitalize() + ".",
                "timestamp": 5.0 * i,
                "end": 5.0 * i + 4.5,
            }
            for i in range(UTTERANCES)
        ]


async def seed(database_url: str, calls: int, rng: random.Random, words: list[str]) -> list[Any]:
    """`calls` calls with their transcripts and search terms; returns a sample of the transcripts."""
    now = datetime.now(UTC)
    engine = create_engine(database_url)
    sample: list[Any] = []
    async with engine.begin() as connection:
        await connection.execute(insert(Organization), [{"id": ORG, "created_at": now}])
    rows: list[dict[str, Any]] = []
    terms: list[dict[str, Any]] = []

    async def flush() -> None:
        async with engine.begin() as connection:
            await connection.execute(insert(Call), rows)
            await connection.execute(insert(SearchDocument), terms)
        rows.clear()
        terms.clear()

    for index, data in enumerate(transcripts(rng, words, calls)):
        call_id = f"{index:024x}"
        moment = now - timedelta(minutes=index)
        rows.append(
            {
                "call_id": call_id,
                "organization_id": ORG,
                "provider": "external",
                "provider_call_id": f"bench-{index}",
                "status": "completed",
                "from_number": f"+1416{index % 10_000_000:07d}",
                "to_number": "+14165550199",
                "duration": 100.0,
                "transcription_text": to_text(data),
                "transcription_data": data,
                "transcription_status": "ready",
                "transcription_fetched_at": now,
                "created_at": moment,
                "updated_at": moment,
                "sort_time": moment,
            }
        )
        terms.append(
            {
                "call_id": call_id,
                "organization_id": ORG,
                "redacted": False,
                "terms": indexed(ORG, False, None, data),
            }
        )
        if index % 997 == 0:
            sample.append(data)
        if len(rows) == BATCH:
            await flush()
    if rows:
        await flush()
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text("ANALYZE"))
    await engine.dispose()
    return sample


def queries(
    rng: random.Random, words: list[str], sample: list[Any], calls: int, count: int
) -> list[tuple[str, str]]:
    """(kind, q): a word of middling frequency, a quoted phrase and bare words someone said, a common
    word, a phone number."""
    out: list[tuple[str, str]] = []
    for _ in range(count):
        said = rng.choice(rng.choice(sample))["message"].rstrip(".").lower().split()
        start = rng.randrange(max(1, len(said) - 2))
        kind = rng.choices(["word", "phrase", "words", "common", "number"], [35, 25, 20, 10, 10])[0]
        if kind == "word":
            q = rng.choice(words[len(COMMON) + 50 : len(COMMON) + 3000])
        elif kind == "phrase":
            q = '"' + " ".join(said[start : start + 2]) + '"'
        elif kind == "words":
            q = " ".join(said[start : start + 3])
        elif kind == "common":
            q = rng.choice(COMMON[:20])
        else:
            q = f"+1416{rng.randrange(calls):07d}"
        out.append((kind, q))
    return out


def measure(
    clients: dict[str, httpx.Client], asked: list[tuple[str, str]]
) -> tuple[dict[str, dict[str, list[float]]], int]:
    """Milliseconds per search, by service, by kind of query and over all; and how many queries the
    services answered differently. With a baseline each query goes to both services, each first in turn,
    so the machine's slower moments fall on both alike."""
    times: dict[str, dict[str, list[float]]] = {name: {} for name in clients}
    different = 0
    turns = list(clients.items())
    for i, (kind, q) in enumerate(asked):
        answers = []
        for name, client in turns[i % len(turns) :] + turns[: i % len(turns)]:
            started = time.perf_counter()
            response = client.get("/api/calls/search", params={"q": q})
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, response.text
            times[name].setdefault(kind, []).append(elapsed)
            times[name].setdefault("all", []).append(elapsed)
            answers.append(response.json())
        different += any(answer != answers[0] for answer in answers)
    return times, different


@contextmanager
def checkout(revision: str) -> Iterator[Path]:
    """The repository at `revision`, in a temporary worktree (its service runs on this one's packages)."""
    folder = Path(tempfile.mkdtemp(prefix="tether-baseline-"))
    git = ["git", "-C", str(REPOSITORY), "worktree"]
    subprocess.run([*git, "add", "--detach", str(folder), revision], check=True, capture_output=True)
    try:
        yield folder
    finally:
        subprocess.run([*git, "remove", "--force", str(folder)], check=True, capture_output=True)


async def index_size(database_url: str) -> float:
    """MiB of what search adds: the terms table and each database's own index over it (SQLite: the
    bytes of the FTS5 table's blocks, its document sizes and the terms, without page overhead)."""
    engine = create_engine(database_url)
    async with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            size = await connection.scalar(text("SELECT pg_total_relation_size('search_documents')"))
        else:
            size = 0
            for query in (
                "SELECT SUM(length(block)) FROM search_documents_fts_data",
                "SELECT SUM(length(term)) FROM search_documents_fts_idx",
                "SELECT SUM(length(sz)) FROM search_documents_fts_docsize",
                "SELECT SUM(length(terms)) FROM search_documents",
            ):
                size += await connection.scalar(text(query)) or 0
    await engine.dispose()
    return float(size or 0) / 2**20


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


KINDS = ("word", "phrase", "words", "common", "number", "all")


def run(database_url: str, folder: str, args: argparse.Namespace, label: str, baseline: Path | None) -> None:
    """Seeded once; then `args.rounds` rounds of `args.queries` queries each (new ones each round) against
    one service, so that one run says how much the figures move on this machine; with a baseline, the
    same queries against it too, interleaved, and the ratios."""
    rng = random.Random(2212)
    words = vocabulary(rng, 6000)
    upgrade(database_url)
    started = time.monotonic()
    sample = asyncio.run(seed(database_url, args.calls, rng, words))
    seeded = time.monotonic() - started
    size = asyncio.run(index_size(database_url))
    count, rounds = args.queries, args.rounds
    asked = queries(rng, words, sample, args.calls, 30 + count * rounds)
    with ExitStack() as stack:
        clients: dict[str, httpx.Client] = {}
        sources = {"HEAD": None, **({args.baseline: baseline} if baseline else {})}
        for name, source in sources.items():
            server = stack.enter_context(service(database_url, folder, local_storage=True, source=source))
            clients[name] = stack.enter_context(
                httpx.Client(base_url=server.url, headers=bearer(), timeout=60)
            )
        _, different = measure(clients, asked[:30])  # warm-up
        measured: list[dict[str, dict[str, list[float]]]] = []
        for r in range(rounds):
            round_times, differing = measure(clients, asked[30 + count * r : 30 + count * (r + 1)])
            measured.append(round_times)
            different += differing
    print(f"\n{label}: {args.calls:,} calls x {UTTERANCES} utterances, seeded in {seeded:.0f} s")
    print(f"index: {size:,.0f} MiB")
    for name in clients:
        times = [each[name] for each in measured]
        print(f"{name}\n{'query':<8} {'n':>5}  p50 / p99 ms, round by round")
        for kind in KINDS:
            figures = [(statistics.median(t[kind]), percentile(t[kind], 0.99)) for t in times if t.get(kind)]
            n = sum(len(t.get(kind, [])) for t in times)
            print(f"{kind:<8} {n:>5}  " + "   ".join(f"{p50:5.1f} / {p99:5.1f}" for p50, p99 in figures))
        worst = [(statistics.median(t["all"]), percentile(t["all"], 0.99)) for t in times]
        print(
            f"all, worst round: p50 {max(p for p, _ in worst):.1f} ms, p99 {max(p for _, p in worst):.1f} ms"
        )
    if baseline:
        print(f"answers that differ from {args.baseline}'s: {different} of {len(asked)}")
        print(f"HEAD / {args.baseline}, p50 (p99), round by round")
        for kind in KINDS:
            ratios = [
                f"{statistics.median(t['HEAD'][kind]) / statistics.median(t[args.baseline][kind]):.2f}"
                f" ({percentile(t['HEAD'][kind], 0.99) / percentile(t[args.baseline][kind], 0.99):.2f})"
                for t in measured
                if t["HEAD"].get(kind)
            ]
            print(f"{kind:<8} " + "   ".join(ratios))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=400, help="per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument(
        "--baseline", metavar="REVISION", help="also measure the service at this commit, interleaved"
    )
    args = parser.parse_args()
    with ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory())
        baseline = stack.enter_context(checkout(args.baseline)) if args.baseline else None
        if args.only != "postgresql":
            run(f"sqlite+aiosqlite:///{folder}/search.db", folder, args, "SQLite", baseline)
        if args.only != "sqlite":
            url = stack.enter_context(postgres_database(args.postgres_url))
            if url is not None:
                run(url, folder, args, "PostgreSQL", baseline)


if __name__ == "__main__":
    main()
