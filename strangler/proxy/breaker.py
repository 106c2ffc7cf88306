"""A circuit breaker per upstream: open after repeated failures, probe half-open, close.

closed --(FAILURE_THRESHOLD failures in a row)--> open --(OPEN_SECONDS)--> half-open
half-open --(a probe succeeds)--> closed;  half-open --(a probe fails)--> open
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from strangler.proxy.metrics import BREAKER_STATE

__all__ = ["CircuitBreaker"]

State = Literal["closed", "half-open", "open"]
# Five failures in a row is past a blip (a restart drops one or two requests) and short of
# sending a dead upstream more than a handful of requests before fallback takes over.
FAILURE_THRESHOLD = 5
# Long enough for a restarting gunicorn to bind again (about 1-2 s here), short enough that
# a recovered service gets traffic back quickly.
OPEN_SECONDS = 5.0
_GAUGE = {"closed": 0, "half-open": 1, "open": 2}


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        *,
        threshold: int = FAILURE_THRESHOLD,
        open_seconds: float = OPEN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.threshold = threshold
        self.open_seconds = open_seconds
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False
        BREAKER_STATE.labels(name).set(0)

    @property
    def state(self) -> State:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self.open_seconds:
            return "half-open"
        return "open"

    def allow(self) -> bool:
        """May a request go to the upstream now? In half-open, one probe at a time."""
        state = self.state
        if state == "closed":
            return True
        if state == "half-open" and not self._probing:
            self._probing = True
            return True
        return False

    def record_success(self) -> None:
        self._failures = 0
        self._probing = False
        if self._opened_at is not None:
            self._opened_at = None
            BREAKER_STATE.labels(self.name).set(_GAUGE["closed"])

    def record_failure(self) -> None:
        self._failures += 1
        was_probe = self._probing
        self._probing = False
        if was_probe or self._failures >= self.threshold:
            self._opened_at = self._clock()
            BREAKER_STATE.labels(self.name).set(_GAUGE["open"])
