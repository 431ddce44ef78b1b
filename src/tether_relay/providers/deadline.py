"""The time budget of one logical read (a recording read, a playback proxy's open, a transcript fetch).

One `Deadline` is opened per read with `read_budget` (the API opens one per request: api/request_context.py)
and carried by a context variable, so every provider request, retry and backoff of that read, in
providers/http.py, draws on the same budget, including the transcript fetch that runs in a task of its own
(tasks copy the context). A provider request made outside any read (the CLI, jobs) gets a budget of its own.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Deadline:
    at: float  # time.monotonic()

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())


_CURRENT: ContextVar[Deadline | None] = ContextVar("provider_read_deadline", default=None)


@contextmanager
def read_budget(seconds: float) -> Iterator[Deadline]:
    """Run a read under a budget of `seconds`; inside a read already under one, that one holds."""
    current = _CURRENT.get()
    if current is not None:
        yield current
        return
    deadline = Deadline.after(seconds)
    token = _CURRENT.set(deadline)
    try:
        yield deadline
    finally:
        _CURRENT.reset(token)


def current_deadline(default_seconds: float) -> Deadline:
    """The deadline of the read in progress, or one of `default_seconds` for a request outside any read."""
    return _CURRENT.get() or Deadline.after(default_seconds)
