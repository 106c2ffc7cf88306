from __future__ import annotations

from strangler.proxy.breaker import CircuitBreaker


class Clock:
    """A time source the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_opens_after_the_threshold_of_failures_in_a_row() -> None:
    breaker = CircuitBreaker("catalog", threshold=3, open_seconds=5, clock=Clock())

    for _ in range(2):
        breaker.record_failure()
    assert breaker.state == "closed"
    breaker.record_failure()

    assert breaker.state == "open"
    assert breaker.allow() is False


def test_a_success_resets_the_failure_count() -> None:
    breaker = CircuitBreaker("catalog", threshold=3, open_seconds=5, clock=Clock())

    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()

    assert breaker.state == "closed"


def test_after_the_open_period_one_probe_goes_through_at_a_time() -> None:
    clock = Clock()
    breaker = CircuitBreaker("catalog", threshold=1, open_seconds=5, clock=clock)
    breaker.record_failure()

    clock.now += 5
    assert breaker.state == "half-open"
    assert breaker.allow() is True
    assert breaker.allow() is False


def test_a_successful_probe_closes_the_breaker() -> None:
    clock = Clock()
    breaker = CircuitBreaker("catalog", threshold=1, open_seconds=5, clock=clock)
    breaker.record_failure()
    clock.now += 5
    breaker.allow()

    breaker.record_success()

    assert breaker.state == "closed"
    assert breaker.allow() is True


def test_a_failed_probe_opens_the_breaker_for_another_period() -> None:
    clock = Clock()
    breaker = CircuitBreaker("catalog", threshold=3, open_seconds=5, clock=clock)
    for _ in range(3):
        breaker.record_failure()
    clock.now += 5
    breaker.allow()

    breaker.record_failure()

    assert breaker.state == "open"
    clock.now += 4.9
    assert breaker.allow() is False
