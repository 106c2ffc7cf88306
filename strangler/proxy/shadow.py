"""Shadow traffic: a copy of the request to the service, compared off the request's path.

The client's answer never waits for the shadow: jobs go into a bounded queue that a fixed
number of workers drain over their own connection pools (the proxy's upstream client, one
pool per service, apart from the pools that serve clients) and timeouts. When the queue is
full the job is dropped and counted, never queued without bound.

A shadow worker asks the service (and, for the route's ``noise_sample_rate`` share of safe
requests, the monolith a second time, and the service too when ``candidate_twice``), then
hands the answers to the comparison engine in a child process (``strangler.proxy.comparing``). Both
sides are asked for their data versions (``X-Strangler-Want-Versions``): when the two sides'
rows are at different versions, the verdict is "not comparable" and a safe request is asked
again of both sides ``RETRY_DELAYS`` later, when the sync has had time to catch up; the
metrics count a request by its last try. A service still *behind* at the last try stays not
comparable (the sync lag gates speak to that); a service still *ahead* is judged on its
answer, since only a write that went around the monolith leaves it ahead.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace

from multidict import CIMultiDict

from strangler.compare import CandidateFailure, HttpRequest, HttpResponse, Verdict, headers_of
from strangler.proxy.comparing import CompareJob, ComparePool, Outcome, rules_text
from strangler.proxy.config import TableConfig, Timeouts
from strangler.proxy.errors import UpstreamError, UpstreamTimeout, UpstreamUnreachable
from strangler.proxy.headers import decoded
from strangler.proxy.route_config import SAFE_METHODS
from strangler.proxy.shadow_job import (
    SHADOW_TIMEOUT_SECONDS,
    WANT_VERSIONS,
    CapturedResponse,
    ShadowJob,
)
from strangler.proxy.shadow_stats import OUTCOME_OF, ShadowStats
from strangler.proxy.upstream_client import UpstreamClient

__all__ = ["ShadowDispatcher"]

logger = logging.getLogger(__name__)

# Concurrent shadow requests per worker process: enough to keep up with ~1,000 req/s of
# 20 ms service answers, small enough that a slow service cannot eat the proxy's sockets.
SHADOW_CONCURRENCY = 16
# Queued jobs beyond the ones in flight; a full queue means the service is slower than the
# traffic, and dropping is better than delaying or growing memory.
SHADOW_QUEUE_SIZE = 256
# Shadow pools kept at most (one per endpoint and timeout); past it, idle ones are closed.
# Far above a table's endpoints, so it only bounds what DNS churn would leave behind.
SHADOW_POOLS = 256
# When the service's data was behind: the sync's lag is seconds (its gates hold it under
# 10 s), so ask again after 2 s, then 8 s, then count the request not comparable.
RETRY_DELAYS = (2.0, 8.0)
_SHADOW_HEADER = (b"X-Strangler-Shadow", b"1")


def _failure(exc: UpstreamError) -> CandidateFailure:
    if isinstance(exc, UpstreamTimeout):
        return CandidateFailure("timeout", str(exc))
    if isinstance(exc, UpstreamUnreachable):
        return CandidateFailure("connect", str(exc))
    return CandidateFailure("protocol", str(exc))


def _answer(captured: CapturedResponse, origin: str) -> HttpResponse:
    return HttpResponse(captured.status, tuple(captured.headers.items()), captured.body, origin)


class ShadowDispatcher:
    def __init__(
        self,
        *,
        compare: ComparePool | None = None,
        concurrency: int = SHADOW_CONCURRENCY,
        queue_size: int = SHADOW_QUEUE_SIZE,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
    ) -> None:
        self.compare = compare or ComparePool()
        self.concurrency = concurrency
        self.retry_delays = retry_delays
        self.stats = ShadowStats()
        self._queue: asyncio.Queue[ShadowJob] = asyncio.Queue(maxsize=queue_size)
        self._workers: list[asyncio.Task[None]] = []
        self._clients: dict[tuple[str, float, str | None], UpstreamClient] = {}
        self._retries: set[asyncio.TimerHandle] = set()
        self._closing: set[asyncio.Task[None]] = set()
        self._closed = False

    async def start(self) -> None:
        self._workers = [asyncio.create_task(self._work()) for _ in range(self.concurrency)]

    def _client(
        self, base_url: str, timeout: float, server_hostname: str | None = None
    ) -> UpstreamClient:
        """One pool per upstream endpoint (and timeout): at most ``concurrency`` connections,
        as many as there are workers."""
        timeout = min(timeout, SHADOW_TIMEOUT_SECONDS)
        key = (base_url, timeout, server_hostname)
        client = self._clients.get(key)
        if client is None:
            if len(self._clients) >= SHADOW_POOLS:
                self._forget_idle_pools()
            timeouts = Timeouts(
                connect=min(Timeouts().connect, timeout), read=timeout, total=timeout
            )
            client = UpstreamClient(
                "shadow",
                base_url,
                pool_size=self.concurrency,
                timeouts=timeouts,
                server_hostname=server_hostname,
            )
            self._clients[key] = client
        return client

    def _forget_idle_pools(self) -> None:
        """Endpoints come and go with DNS discovery: the pools of those no shadow request
        uses now are closed rather than kept forever."""
        for key, client in list(self._clients.items()):
            if not client.in_use:
                del self._clients[key]
                task = asyncio.get_running_loop().create_task(client.close())
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)

    def rules(self, config: TableConfig) -> str:
        """The comparison rules of the table in force, as text (serialised once a table)."""
        return self.compare.rules_for(
            config,
            lambda: rules_text(
                config.compare, {r.name: r.compare for r in config.routes if r.compare is not None}
            ),
        )

    def skip(self, route: str) -> None:
        """A request that could not be shadowed (body over the buffering limit)."""
        self.stats.count(route, "skipped")

    def submit(self, job: ShadowJob) -> bool:
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            self.stats.count(job.route, "dropped")
            return False
        return True

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            try:
                await self._run(job)
            except Exception:  # a bug here must not stop the worker that found it
                logger.exception("shadow job for route %s failed", job.route)
                self.stats.count(job.route, "error")
            finally:
                self._queue.task_done()

    async def _ask(
        self,
        base_url: str,
        timeout: float,
        job: ShadowJob,
        headers: list[tuple[bytes, bytes]],
        server_hostname: str | None = None,
    ) -> tuple[CapturedResponse | CandidateFailure, float]:
        started = time.perf_counter()
        try:
            response = await self._client(base_url, timeout, server_hostname).request(
                job.method, job.target, headers, job.body
            )
            try:
                body = await response.read()
            finally:
                response.release()
        except UpstreamError as exc:
            return _failure(exc), time.perf_counter() - started
        answer = CapturedResponse(response.status, CIMultiDict(response.headers), body)
        return answer, time.perf_counter() - started

    async def _run(self, job: ShadowJob) -> None:
        headers = [*job.headers, _SHADOW_HEADER, WANT_VERSIONS]
        primary, primary_seconds = job.primary, job.primary_seconds
        if primary is None:
            asked, primary_seconds = await self._ask(
                job.legacy_url,
                job.legacy_timeout,
                job,
                [*_legacy_headers(job), WANT_VERSIONS],
                job.legacy_server_hostname,
            )
            if isinstance(asked, CandidateFailure):
                logger.info("shadow retry on route %s: the monolith failed: %s", job.route, asked)
                self.stats.count(job.route, "error")
                return
            primary = asked
        asks = [self._ask(job.base_url, job.timeout, job, headers, job.server_hostname)]
        if job.repeat_base:
            asks.append(
                self._ask(
                    job.legacy_url,
                    job.legacy_timeout,
                    job,
                    [*_legacy_headers(job), WANT_VERSIONS],
                    job.legacy_server_hostname,
                )
            )
        answers = await asyncio.gather(*asks)
        candidate, candidate_seconds = answers[0]
        base_again = answers[1][0] if job.repeat_base else None
        candidate_again = None
        if job.repeat_candidate and isinstance(candidate, CapturedResponse):
            again, _ = await self._ask(job.base_url, job.timeout, job, headers, job.server_hostname)
            candidate_again = again if isinstance(again, CapturedResponse) else None
        self._compare(
            job,
            CompareJob(
                route=job.route,
                rules=job.rules,
                request=HttpRequest(
                    job.method,
                    job.target,
                    headers_of(decoded(job.headers).items()),
                    job.body or b"",
                ),
                base=_answer(primary, job.legacy_url),
                candidate=(
                    _answer(candidate, job.base_url)
                    if isinstance(candidate, CapturedResponse)
                    else candidate
                ),
                base_again=(
                    _answer(base_again, job.legacy_url)
                    if isinstance(base_again, CapturedResponse)
                    else None
                ),
                candidate_again=(
                    _answer(candidate_again, job.base_url) if candidate_again else None
                ),
                base_latency=primary_seconds,
                candidate_latency=candidate_seconds,
                final=not self._may_retry(job),
            ),
        )

    def _may_retry(self, job: ShadowJob) -> bool:
        return job.method in SAFE_METHODS and job.attempt < len(self.retry_delays)

    def _compare(self, job: ShadowJob, compare_job: CompareJob) -> None:
        def judged(_: CompareJob, outcome: Outcome | BaseException) -> None:
            self._judged(job, outcome)

        if not self.compare.submit(compare_job, judged):
            self.stats.count(job.route, "dropped")

    def _judged(self, job: ShadowJob, outcome: Outcome | BaseException) -> None:
        if isinstance(outcome, BaseException):
            logger.warning("comparison on route %s failed: %r", job.route, outcome)
            self.stats.count(job.route, "error")
            return
        if outcome.stale and self._may_retry(job):
            # Counted by its last try; the results file counts every try.
            self._retry(job)
            return
        self.stats.count(job.route, OUTCOME_OF[outcome.verdict])
        if outcome.verdict in (Verdict.DIFFERENT, Verdict.CANDIDATE_ERROR):
            logger.info(
                "shadow %s on route %s: %s %s: %s%s",
                outcome.verdict.value,
                job.route,
                job.method,
                job.target,
                outcome.reason,
                f" [{outcome.signature}]" if outcome.signature else "",
            )

    def _retry(self, job: ShadowJob) -> None:
        """Both sides again, later: the monolith's answer then is the one to match."""
        if self._closed:
            return
        again = replace(job, primary=None, primary_seconds=None, attempt=job.attempt + 1)
        self.stats.retried += 1

        def fire() -> None:
            self._retries.discard(handle)
            self.submit(again)

        handle = asyncio.get_running_loop().call_later(self.retry_delays[job.attempt], fire)
        self._retries.add(handle)

    async def drain(self) -> None:
        """Wait until every queued job has been compared and written (tests, shutdown)."""
        await self._queue.join()
        await self.compare.drain()

    async def close(self) -> None:
        self._closed = True
        for handle in self._retries:
            handle.cancel()
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        for client in self._clients.values():
            await client.close()
        await asyncio.gather(*self._closing, return_exceptions=True)
        await self.compare.close()


def _legacy_headers(job: ShadowJob) -> list[tuple[bytes, bytes]]:
    return job.legacy_headers if job.legacy_headers is not None else job.headers
