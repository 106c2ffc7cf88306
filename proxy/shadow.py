"""Shadow traffic: a copy of the request to the service, compared off the request's path.

The client's answer never waits for the shadow: jobs go into a bounded queue that a fixed
number of workers drain over their own connection pools (the proxy's upstream client, one
pool per service, apart from the pools that serve clients) and timeouts. When the queue is
full the job is dropped and counted, never queued without bound.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Protocol

from multidict import CIMultiDict

from proxy.config import Timeouts
from proxy.errors import UpstreamError
from proxy.metrics import SHADOW_RESULTS
from proxy.upstream_client import UpstreamClient

__all__ = [
    "CapturedResponse",
    "Comparator",
    "ShadowDispatcher",
    "ShadowJob",
    "StatusAndJsonComparator",
    "Verdict",
]

logger = logging.getLogger(__name__)

# Concurrent shadow requests per worker process: enough to keep up with ~1,000 req/s of
# 20 ms service answers, small enough that a slow service cannot eat the proxy's sockets.
SHADOW_CONCURRENCY = 16
# Queued jobs beyond the ones in flight; a full queue means the service is slower than the
# traffic, and dropping is better than delaying or growing memory.
SHADOW_QUEUE_SIZE = 256
# A shadow answer slower than this is counted as an error, not waited for.
SHADOW_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class CapturedResponse:
    status: int
    headers: CIMultiDict[str]
    body: bytes


@dataclass(frozen=True)
class Verdict:
    equal: bool
    reason: str = ""


class Comparator(Protocol):
    def compare(
        self, route: str, base: CapturedResponse, candidate: CapturedResponse
    ) -> Verdict: ...


class StatusAndJsonComparator:
    """Status, then bodies: JSON compared as parsed values (key order free), others as bytes.
    The comparison engine (``strangler.compare``) replaces this with rules per route."""

    def compare(self, route: str, base: CapturedResponse, candidate: CapturedResponse) -> Verdict:
        if base.status != candidate.status:
            return Verdict(False, f"status {base.status} != {candidate.status}")
        if base.body == candidate.body:
            return Verdict(True)
        try:
            if json.loads(base.body) == json.loads(candidate.body):
                return Verdict(True)
        except ValueError:
            return Verdict(False, "bodies differ")
        return Verdict(False, "JSON bodies differ")


@dataclass(frozen=True)
class ShadowJob:
    route: str
    base_url: str
    timeout: float
    method: str
    target: str
    headers: list[tuple[bytes, bytes]]  # as they go upstream (proxy.headers)
    body: bytes | None
    primary: CapturedResponse


@dataclass
class ShadowStats:
    match: int = 0
    mismatch: int = 0
    dropped: int = 0
    skipped: int = 0
    error: int = 0
    per_route: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, route: str, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        bucket = self.per_route.setdefault(route, {})
        bucket[outcome] = bucket.get(outcome, 0) + 1
        SHADOW_RESULTS.labels(route, outcome).inc()


class ShadowDispatcher:
    def __init__(
        self,
        *,
        comparator: Comparator | None = None,
        concurrency: int = SHADOW_CONCURRENCY,
        queue_size: int = SHADOW_QUEUE_SIZE,
    ) -> None:
        self.comparator: Comparator = comparator or StatusAndJsonComparator()
        self.concurrency = concurrency
        self.stats = ShadowStats()
        self._queue: asyncio.Queue[ShadowJob] = asyncio.Queue(maxsize=queue_size)
        self._workers: list[asyncio.Task[None]] = []
        self._clients: dict[tuple[str, float], UpstreamClient] = {}

    async def start(self) -> None:
        self._workers = [asyncio.create_task(self._work()) for _ in range(self.concurrency)]

    def _client(self, base_url: str, timeout: float) -> UpstreamClient:
        """One pool per service (and timeout): at most ``concurrency`` connections, as many
        as there are workers."""
        client = self._clients.get((base_url, timeout))
        if client is None:
            timeouts = Timeouts(
                connect=min(Timeouts().connect, timeout), read=timeout, total=timeout
            )
            client = UpstreamClient(
                "shadow", base_url, pool_size=self.concurrency, timeouts=timeouts
            )
            self._clients[(base_url, timeout)] = client
        return client

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
            finally:
                self._queue.task_done()

    async def _run(self, job: ShadowJob) -> None:
        client = self._client(job.base_url, min(job.timeout, SHADOW_TIMEOUT_SECONDS))
        headers = [*job.headers, (b"X-Strangler-Shadow", b"1")]
        try:
            response = await client.request(job.method, job.target, headers, job.body)
            try:
                body = await response.read()
            finally:
                response.release()
        except UpstreamError as exc:
            logger.info("shadow request for route %s failed: %r", job.route, exc)
            self.stats.count(job.route, "error")
            return
        candidate = CapturedResponse(response.status, CIMultiDict(response.headers), body)
        verdict = self.comparator.compare(job.route, job.primary, candidate)
        self.stats.count(job.route, "match" if verdict.equal else "mismatch")
        if not verdict.equal:
            logger.info(
                "shadow mismatch on route %s: %s %s: %s",
                job.route,
                job.method,
                job.target,
                verdict.reason,
            )

    async def drain(self) -> None:
        """Wait until every queued job has been compared (tests, graceful shutdown)."""
        await self._queue.join()

    async def close(self) -> None:
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        for client in self._clients.values():
            await client.close()
