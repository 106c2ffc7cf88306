"""Offline replay: recorded or listed requests sent to a base and a candidate, compared.

Each request goes to both sides at once. For a sampled share of the safe ones the base is
called a second time (and, if asked, the candidate too), as the proxy's shadow mode does,
so the engine learns what differs between two answers of the base itself: noise. Writes
(anything but GET, HEAD and OPTIONS) are skipped unless ``allow_writes``; they are never
called twice. ``concurrency`` requests are in flight at most, started at no more than
``rate`` per second.

A side that cannot be reached at all stops the replay before the first request
(``ReplayCannotRun``); one that fails on a request is a result: the candidate's failures
are ``candidate_error``, the base's ``not_comparable``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from strangler.compare.captures import CaptureRecord
from strangler.compare.engine import CompareEngine
from strangler.compare.errors import CompareError
from strangler.compare.model import (
    CandidateFailure,
    ComparisonResult,
    Headers,
    HttpRequest,
    HttpResponse,
    headers_of,
)
from strangler.compare.redact import REDACTED
from strangler.compare.rulefile import RouteNamer

__all__ = [
    "SAFE_METHODS",
    "ReplayCannotRun",
    "ReplayOutcome",
    "ReplaySettings",
    "ReplaySettingsInvalid",
    "ReplaySummary",
    "replay",
]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A local or LAN upstream accepts a connection in milliseconds: 3 s means nobody is there.
CONNECT_TIMEOUT_SECONDS = 3.0
# One request's answer, either side: a catalog page takes ~20 ms here; 10 s is a hang.
REQUEST_TIMEOUT_SECONDS = 10.0
# Concurrent requests by default: keeps two cores busy against two local gunicorns
# without queueing in their workers.
DEFAULT_CONCURRENCY = 8
# Share of safe requests whose base is called twice: a volatile field then shows up in
# the 5 base self-differences the noise test needs within ~25 requests of its route.
DEFAULT_BASE_TWICE = 0.2


class ReplaySettingsInvalid(CompareError, ValueError):
    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class ReplayCannotRun(CompareError):
    """A side cannot be reached at all; the message names it."""


@dataclass(frozen=True, slots=True)
class ReplaySettings:
    base: str
    candidate: str
    concurrency: int = DEFAULT_CONCURRENCY
    rate: float | None = None  # requests started per second; None: as fast as answered
    allow_writes: bool = False
    timeout: float = REQUEST_TIMEOUT_SECONDS
    base_twice: float = DEFAULT_BASE_TWICE
    candidate_twice: float = 0.0
    headers: Headers = ()  # sent with every request, replacing recorded ones of that name
    seed: int = 0  # which requests are called twice, reproducibly

    def __post_init__(self) -> None:
        for name in ("base", "candidate"):
            url = urlsplit(getattr(self, name))
            if url.scheme not in ("http", "https") or not url.hostname or url.query:
                raise ReplaySettingsInvalid(
                    name, f"{getattr(self, name)!r} is not a base URL like http://127.0.0.1:8100"
                )
        if self.concurrency < 1:
            raise ReplaySettingsInvalid("concurrency", "must be at least 1")
        if self.rate is not None and self.rate <= 0:
            raise ReplaySettingsInvalid("rate", "must be above 0 requests per second")
        if self.timeout <= 0:
            raise ReplaySettingsInvalid("timeout", "must be above 0 seconds")
        for name in ("base_twice", "candidate_twice"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ReplaySettingsInvalid(name, "must be a share between 0 and 1")


@dataclass(frozen=True, slots=True)
class ReplayOutcome:
    record: CaptureRecord
    route: str
    result: ComparisonResult | None  # None: skipped
    skipped: str = ""


@dataclass(slots=True)
class ReplaySummary:
    total: int = 0
    replayed: int = 0  # sent to both sides (skipped ones are not)
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> requests
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class _Call:
    answer: HttpResponse | CandidateFailure
    seconds: float


class _Pacer:
    """Starts at most ``rate`` requests per second, evenly spaced."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.next_at = time.monotonic()

    async def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        at = max(self.next_at, now)
        self.next_at = at + self.interval
        if at > now:
            await asyncio.sleep(at - now)


def _skip_reason(record: CaptureRecord, settings: ReplaySettings) -> str:
    if record.method not in SAFE_METHODS and not settings.allow_writes:
        return "write (give --allow-writes to replay writes)"
    if record.body_truncated:
        return "body cut when it was captured"
    return ""


def _sent_headers(record: CaptureRecord, settings: ReplaySettings) -> Headers:
    """Recorded headers, less the redacted ones (nothing to send), with the configured
    headers in place of any of the same name."""
    replaced = {name.lower() for name, _ in settings.headers}
    kept = tuple((n, v) for n, v in record.headers if v != REDACTED and n.lower() not in replaced)
    return kept + settings.headers


async def _reachable(url: str, timeout: float) -> None:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(parts.hostname, port), timeout=timeout
        )
    except (OSError, TimeoutError) as exc:
        detail = "no answer" if isinstance(exc, TimeoutError) else exc.strerror or str(exc)
        raise ReplayCannotRun(f"cannot reach {url}: {detail}") from exc
    writer.close()
    await writer.wait_closed()


async def _call(session: aiohttp.ClientSession, origin: str, request: HttpRequest) -> _Call:
    started = time.perf_counter()
    url = URL(origin.rstrip("/") + request.target, encoded=True)
    try:
        async with session.request(
            request.method,
            url,
            headers=CIMultiDict(request.headers),
            data=request.body or None,
            allow_redirects=False,
        ) as response:
            body = await response.read()
            answer: HttpResponse | CandidateFailure = HttpResponse(
                response.status, headers_of(response.headers.items()), body, origin
            )
    except TimeoutError:
        answer = CandidateFailure("timeout", "no answer in time")
    except aiohttp.ClientConnectorError as exc:
        answer = CandidateFailure("connect", str(exc.os_error))
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError) as exc:
        answer = CandidateFailure("protocol", str(exc) or type(exc).__name__)
    except aiohttp.ClientError as exc:
        answer = CandidateFailure("protocol", str(exc) or type(exc).__name__)
    return _Call(answer, time.perf_counter() - started)


async def _compare_one(
    session: aiohttp.ClientSession,
    settings: ReplaySettings,
    engine: CompareEngine,
    route: str,
    record: CaptureRecord,
    twice: tuple[bool, bool],
) -> ComparisonResult:
    request = HttpRequest(
        record.method, record.target, _sent_headers(record, settings), record.body, settings.base
    )
    base, candidate = await asyncio.gather(
        _call(session, settings.base, request), _call(session, settings.candidate, request)
    )
    if isinstance(base.answer, CandidateFailure):
        return engine.base_failed(
            route,
            base.answer,
            candidate=candidate.answer,
            base_latency=base.seconds,
            candidate_latency=candidate.seconds,
        )
    again: list[HttpResponse | None] = [None, None]
    if twice[0] or twice[1]:
        repeats = await asyncio.gather(
            *(
                _call(session, origin, request)
                for origin, wanted in zip((settings.base, settings.candidate), twice, strict=True)
                if wanted
            )
        )
        slots = [i for i in (0, 1) if twice[i]]
        for slot, repeat in zip(slots, repeats, strict=True):
            # A repeat that failed tells nothing about noise: left out.
            if isinstance(repeat.answer, HttpResponse):
                again[slot] = repeat.answer
    return engine.compare(
        route,
        request,
        base.answer,
        candidate.answer,
        base_again=again[0],
        candidate_again=again[1] if isinstance(candidate.answer, HttpResponse) else None,
        base_latency=base.seconds,
        candidate_latency=candidate.seconds,
    )


async def replay(
    records: Sequence[CaptureRecord],
    *,
    settings: ReplaySettings,
    engine: CompareEngine,
    namer: RouteNamer | None = None,
    on_outcome: Callable[[ReplayOutcome], None] | None = None,
) -> ReplaySummary:
    """Replay ``records`` against both sides; every comparison goes into ``engine``."""
    namer = namer or RouteNamer()
    started = time.monotonic()
    await _reachable(settings.base, CONNECT_TIMEOUT_SECONDS)
    await _reachable(settings.candidate, CONNECT_TIMEOUT_SECONDS)
    rng = random.Random(settings.seed)  # noqa: S311 - sampling, not a secret
    plan = [
        (
            record,
            rng.random() < settings.base_twice and record.method in SAFE_METHODS,
            rng.random() < settings.candidate_twice and record.method in SAFE_METHODS,
        )
        for record in records
    ]
    summary = ReplaySummary(total=len(records))
    pacer = _Pacer(settings.rate)
    queue = iter(plan)
    timeout = aiohttp.ClientTimeout(
        total=settings.timeout, connect=min(settings.timeout, CONNECT_TIMEOUT_SECONDS)
    )
    # Each worker holds up to four connections at once (both sides, both repeats).
    connector = aiohttp.TCPConnector(limit=settings.concurrency * 4)
    async with aiohttp.ClientSession(
        timeout=timeout,
        connector=connector,
        # Each request stands alone: a cookie one answer sets must not ride on the next.
        cookie_jar=aiohttp.DummyCookieJar(),
        skip_auto_headers=("User-Agent",),
    ) as session:

        async def worker() -> None:
            for record, base_twice, candidate_twice in queue:
                route = namer.name(record)
                reason = _skip_reason(record, settings)
                if reason:
                    summary.skipped[reason] = summary.skipped.get(reason, 0) + 1
                    outcome = ReplayOutcome(record, route, None, reason)
                else:
                    await pacer.wait()
                    result = await _compare_one(
                        session, settings, engine, route, record, (base_twice, candidate_twice)
                    )
                    summary.replayed += 1
                    outcome = ReplayOutcome(record, route, result)
                if on_outcome is not None:
                    on_outcome(outcome)

        await asyncio.gather(*(worker() for _ in range(settings.concurrency)))
    summary.seconds = time.monotonic() - started
    return summary
