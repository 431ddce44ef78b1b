from __future__ import annotations

from tether_relay.providers.circuit import CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_the_threshold_and_half_opens_after_the_reset() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=3, reset_seconds=30, clock=clock)

    for _ in range(2):
        breaker.failed("twilio")
    assert breaker.allows("twilio")
    breaker.failed("twilio")
    assert not breaker.allows("twilio")
    assert breaker.allows("elevenlabs")  # per provider

    clock.now += 30
    assert breaker.allows("twilio")  # one trial
    assert not breaker.allows("twilio")  # the others keep failing fast meanwhile
    breaker.succeeded("twilio")
    assert breaker.allows("twilio")
    assert breaker.allows("twilio")  # closed again: no half-open gate left


def test_a_success_resets_the_count() -> None:
    breaker = CircuitBreaker(threshold=2, reset_seconds=30, clock=Clock())

    breaker.failed("twilio")
    breaker.succeeded("twilio")
    breaker.failed("twilio")

    assert breaker.allows("twilio")
