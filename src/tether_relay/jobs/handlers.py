"""What workers run: each job name's handler, and how a failed job is retried. Defined once (the wiring,
runtime.py) and run by either worker."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

Handler = Callable[[dict[str, str]], Awaitable[None]]
Handlers = Mapping[str, Handler]


class Permanent(Exception):
    """A failure that no retry can mend (the job's subject is gone, or will never be valid): the job ends
    without retrying. Its message is logged, so it names no secret."""


@dataclass(frozen=True, slots=True)
class JobPolicy:
    """How failed jobs are retried, and when a silent worker's job is taken back."""

    max_attempts: int = 8
    first_delay_seconds: float = 5.0
    max_delay_seconds: float = 3600.0
    # A run whose worker stopped heartbeating (PostgreSQL) or renewing its lease (SQLite) for this long
    # is handed to another worker, or run again after a restart.
    heartbeat_timeout_seconds: float = 30.0

    def delay(self, attempts: int) -> timedelta:
        """After the `attempts`-th failure: 5 s, 10 s, 20 s … up to an hour."""
        seconds = self.first_delay_seconds * 2 ** max(0, attempts - 1)
        return timedelta(seconds=min(seconds, self.max_delay_seconds))
