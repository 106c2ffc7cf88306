"""The comparison engine (``strangler.compare``) for shadow mode, off the event loop.

A structural diff of two 29 KB JSON answers costs ~0.3 ms of CPU; inside the event loop
that time is taken from every client the worker serves. So each proxy worker hands the
two answers to one child process of its own (``ProcessPoolExecutor``, spawned on the first
comparison, so a proxy without shadow routes never starts one) through a bounded count of
comparisons in flight: past ``max_pending`` a comparison is dropped and counted, never
queued without bound.

The child keeps one ``CompareEngine`` for the worker's life (noise counts and clusters grow
with every request) and sends what it counted to the shared results
(``strangler.compare.results``: the store of ``STRANGLER_STORE_URL`` for a fleet, else the
host's results file) at most every ``FLUSH_SECONDS``, and at shutdown: every worker's child
adds to the same rows, so ``strangler compare report`` and the plan gates see all workers'
evidence, across restarts. The child opens the results at its first flush and keeps
counting when a flush fails (a store out of reach): the next flush sends what is missing.
Each comparison's verdict comes back to the worker, which counts it in
``strangler_proxy_shadow_total``.

Rules travel with each comparison as the table's ``compare`` sections in JSON (a few hundred
bytes, serialised once per table): a reloaded table's rules apply from its next request on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from strangler.compare import (
    CandidateFailure,
    CompareEngine,
    CompareRules,
    DataVersions,
    HttpRequest,
    HttpResponse,
    RuleBook,
    Verdict,
)
from strangler.compare.freshness import versions_from_headers
from strangler.compare.results import (
    ResultsError,
    ResultsLocation,
    ResultsWriter,
    open_results,
    results_location,
)

__all__ = ["CompareJob", "ComparePool", "Outcome", "rules_text"]

logger = logging.getLogger(__name__)

# Comparisons waiting for the child or being run, per worker: at ~3,000 comparisons a
# second for 29 KB bodies, 256 is under 0.1 s of work; a longer queue means the child
# cannot keep up, and dropping beats growing memory with bodies.
MAX_PENDING = 256
# How often the child sends its counts to the results: a gate or a report lags the traffic
# by at most this.
FLUSH_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class CompareJob:
    route: str
    rules: str  # ``rules_text`` of the table the request was routed by
    request: HttpRequest
    base: HttpResponse
    candidate: HttpResponse | CandidateFailure
    base_again: HttpResponse | None = None
    candidate_again: HttpResponse | None = None
    base_latency: float | None = None
    candidate_latency: float | None = None
    final: bool = True  # no retry follows this one


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the worker learns of one comparison."""

    verdict: Verdict
    reason: str
    signature: str  # the real differences' keys, for the log line
    stale: bool  # not comparable because the candidate's data was behind: worth a retry


OutcomeCallback = Callable[[CompareJob, Outcome | BaseException], None]


def rules_text(defaults: CompareRules, routes: dict[str, CompareRules]) -> str:
    return json.dumps(
        {
            "defaults": defaults.model_dump(mode="json", exclude_defaults=True),
            "routes": {
                name: rules.model_dump(mode="json", exclude_defaults=True)
                for name, rules in sorted(routes.items())
            },
        },
        sort_keys=True,
    )


# ---- in the child process -------------------------------------------------------------


class _Child:
    def __init__(self, results: ResultsLocation) -> None:
        self.engine = CompareEngine()
        self.results = results
        self.writer: ResultsWriter | None = None
        self.rules = ""
        self.flushed_at = time.monotonic()

    def use_rules(self, text: str) -> None:
        if text == self.rules:
            return
        data = json.loads(text)
        self.engine.rules = RuleBook(
            CompareRules.model_validate(data["defaults"]),
            {name: CompareRules.model_validate(r) for name, r in data["routes"].items()},
        )
        self.rules = text

    def compare(self, job: CompareJob) -> Outcome:
        self.use_rules(job.rules)
        freshness: DataVersions | None = None
        if isinstance(job.candidate, HttpResponse):
            freshness = versions_from_headers(job.base.headers, job.candidate.headers)
        if job.final and freshness is not None and freshness.candidate > freshness.base:
            # The service's rows are newer than the monolith's on the last try too: no sync
            # in flight explains that (the shadow is sent after the monolith answered, so a
            # write landing in between explains a first try), a write that went around the
            # monolith does. Judge the answers.
            freshness = None
        result = self.engine.compare(
            job.route,
            job.request,
            job.base,
            job.candidate,
            base_again=job.base_again,
            candidate_again=job.candidate_again,
            freshness=freshness,
            base_latency=job.base_latency,
            candidate_latency=job.candidate_latency,
        )
        if time.monotonic() - self.flushed_at >= FLUSH_SECONDS:
            try:
                self.flush()
            except ResultsError as exc:  # the comparison stands; the next flush sends it
                logger.warning("comparison results not written: %s", exc)
        stale = (
            result.verdict is Verdict.NOT_COMPARABLE
            and freshness is not None
            and not freshness.comparable
        )
        signature = ", ".join(f"{key} ({kind})" for key, kind in result.signature)
        return Outcome(result.verdict, result.reason, signature, stale)

    def flush(self) -> int:
        self.flushed_at = time.monotonic()
        if self.writer is None:
            self.writer = ResultsWriter(self.engine, open_results(self.results))
        return self.writer.flush()


_CHILD: _Child | None = None


def _start_child(results: ResultsLocation) -> None:
    global _CHILD  # one engine per child process, by design
    _CHILD = _Child(results)


def _compare(job: CompareJob) -> Outcome:
    assert _CHILD is not None  # set by the pool's initializer
    return _CHILD.compare(job)


def _flush() -> int:
    assert _CHILD is not None
    return _CHILD.flush()


# ---- in the proxy worker ---------------------------------------------------------------


class ComparePool:
    """One worker's comparisons. ``submit`` never blocks; ``on_outcome`` is called on the
    event loop with each comparison's route and ``Outcome`` (or the exception that broke
    it), ``on_dropped`` with the route of each comparison dropped at the bound."""

    def __init__(
        self,
        results_path: Path | None = None,
        *,
        max_pending: int = MAX_PENDING,
    ) -> None:
        # Read once, in the worker: an explicit path, else $STRANGLER_STORE_URL, else the file.
        self.results = results_location(results_path)
        self.max_pending = max_pending
        self.pending = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.dropped = 0
        self._executor: ProcessPoolExecutor | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._since_flush = 0
        self._rules_for: tuple[object, str] | None = None

    def rules_for(self, table: object, build: Callable[[], str]) -> str:
        """The table's rules as text, serialised once per table."""
        cached = self._rules_for
        if cached is not None and cached[0] is table:
            return cached[1]
        text = build()
        self._rules_for = (table, text)
        return text

    def _ensure(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_child,
                initargs=(self.results,),
            )
            self._flusher = asyncio.get_running_loop().create_task(self._flush_now_and_then())
        return self._executor

    def submit(
        self,
        job: CompareJob,
        on_outcome: OutcomeCallback,
    ) -> bool:
        if self.pending >= self.max_pending:
            self.dropped += 1
            return False
        executor = self._ensure()
        loop = asyncio.get_running_loop()
        future = executor.submit(_compare, job)
        self.pending += 1
        self._idle.clear()
        self._since_flush += 1

        def done(finished: Future[Outcome]) -> None:
            loop.call_soon_threadsafe(self._finish, job, finished, on_outcome)

        future.add_done_callback(done)
        return True

    def _finish(
        self, job: CompareJob, finished: Future[Outcome], on_outcome: OutcomeCallback
    ) -> None:
        self.pending -= 1
        if not self.pending:
            self._idle.set()
        try:
            outcome: Outcome | BaseException = finished.result()
        except BaseException as exc:  # a broken child is counted, not raised
            outcome = exc
        on_outcome(job, outcome)

    async def _flush_now_and_then(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            if self._since_flush and self._executor is not None:
                self._since_flush = 0
                try:
                    await asyncio.wrap_future(self._executor.submit(_flush))
                except Exception as exc:  # the next flush tries again
                    logger.warning("comparison results not written: %r", exc)

    async def drain(self) -> None:
        """Wait until every submitted comparison is done and written (tests, shutdown)."""
        await self._idle.wait()
        if self._executor is not None:
            await asyncio.wrap_future(self._executor.submit(_flush))

    async def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
        if self._executor is None:
            return
        try:
            await asyncio.wait_for(self.drain(), timeout=10)
        except Exception as exc:  # shutting down regardless
            logger.warning("comparisons not all written at shutdown: %r", exc)
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._executor = None
