"""A circuit breaker per provider: after `threshold` requests in a row that found the provider
unavailable (timeouts, resets, 5xx after retries), further requests fail at once for `reset_seconds`,
then one is let through to try again. A dead provider then costs one fast failure per read instead of a
pile of requests each waiting out its retries.

It lives in each process: it only makes failures faster and changes no answer, so replicas need not
share it. Authentication failures and 404s are answers, not unavailability, and do not count.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _State:
    failures: int = 0
    opened_at: float | None = None


class CircuitBreaker:
    def __init__(
        self, threshold: int, reset_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._threshold = threshold
        self._reset = reset_seconds
        self._clock = clock
        self._states: dict[str, _State] = {}
        self._lock = threading.Lock()

    def allows(self, provider: str) -> bool:
        with self._lock:
            state = self._states.get(provider)
            if state is None or state.opened_at is None:
                return True
            if self._clock() - state.opened_at >= self._reset:
                state.opened_at = self._clock()  # half-open: this one tries; the rest wait another period
                return True
            return False

    def succeeded(self, provider: str) -> None:
        with self._lock:
            self._states.pop(provider, None)

    def failed(self, provider: str) -> None:
        with self._lock:
            state = self._states.setdefault(provider, _State())
            state.failures += 1
            if state.failures >= self._threshold:
                state.opened_at = self._clock()
