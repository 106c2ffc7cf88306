"""The data the engine takes and gives: requests, responses, differences, verdicts.

Everything here is a frozen dataclass with no behaviour beyond small conveniences, so the
proxy, the offline replay and the reports can pass them around without importing the engine.
Headers are a tuple of ``(name, value)`` pairs in arrival order (duplicates kept), which an
aiohttp ``CIMultiDict`` or a ``requests`` header mapping turns into with ``headers_of``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

__all__ = [
    "CandidateFailure",
    "ComparisonResult",
    "DataVersions",
    "DiffKind",
    "Difference",
    "DiscardedDifference",
    "FreshnessCheck",
    "Headers",
    "HttpRequest",
    "HttpResponse",
    "Signature",
    "Verdict",
    "headers_of",
]

Headers = tuple[tuple[str, str], ...]
# A differing request's fingerprint: its real differences as sorted (key, kind) pairs.
Signature = tuple[tuple[str, str], ...]


def headers_of(source: Mapping[str, str] | Iterable[tuple[str, str]]) -> Headers:
    """Headers as pairs; a multi-dict's ``items()`` keeps repeated names."""
    items = source.items() if isinstance(source, Mapping) else source
    return tuple((str(name), str(value)) for name, value in items)


def _header(headers: Headers, name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers:
        if key.lower() == wanted:
            return value
    return None


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """The request both sides answered. ``target`` is the path and query as sent upstream;
    ``origin`` (``http://host:port``) is where a reproduction should send it."""

    method: str
    target: str
    headers: Headers = ()
    body: bytes = b""
    origin: str = ""

    def header(self, name: str) -> str | None:
        return _header(self.headers, name)


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """One side's answer. ``origin`` is the upstream's base URL, so that absolute links
    pointing back at it compare equal to the other side's."""

    status: int
    headers: Headers = ()
    body: bytes = b""
    origin: str = ""

    def header(self, name: str) -> str | None:
        return _header(self.headers, name)


@dataclass(frozen=True, slots=True)
class CandidateFailure:
    """The candidate gave no answer to compare."""

    kind: Literal["connect", "timeout", "protocol"]
    detail: str = ""


class DiffKind(StrEnum):
    VALUE = "value"  # same type, other value
    TYPE = "type"  # JSON types differ (string vs number, null vs object, ...)
    MISSING = "missing"  # in the base, not in the candidate
    EXTRA = "extra"  # in the candidate, not in the base
    ORDER = "order"  # same elements, other order
    LENGTH = "length"  # lists of different lengths


class Verdict(StrEnum):
    EQUAL = "equal"
    DIFFERENT = "different"  # at least one real difference
    NOISE_ONLY = "noise_only"  # differences, all explained by noise
    NOT_COMPARABLE = "not_comparable"  # stale data or a failing base: retry later
    CANDIDATE_ERROR = "candidate_error"  # the candidate broke where the base did not


@dataclass(frozen=True, slots=True)
class Difference:
    """One difference. ``path`` is for display (``results[3].price``), ``key`` for
    aggregation (``results[].price``). Values are display strings, already truncated and
    redacted; ``None`` where that side has nothing."""

    path: str
    key: str
    kind: DiffKind
    base: str | None
    candidate: str | None
    critical: bool = False
    detail: str = ""


@dataclass(frozen=True, slots=True)
class DiscardedDifference:
    difference: Difference
    reason: str


@dataclass(frozen=True, slots=True)
class DataVersions:
    """How fresh each side's data is for the entity a request reads (e.g. the sync's per-row
    version). Equal versions mean the two sides served the same data."""

    base: int
    candidate: int
    entity: str = ""

    @property
    def comparable(self) -> bool:
        return self.base == self.candidate

    def describe(self) -> str:
        what = f" for {self.entity}" if self.entity else ""
        if self.candidate < self.base:
            lag = f"the candidate is {self.base - self.candidate} version(s) behind the base"
        elif self.candidate > self.base:
            lag = f"the base is {self.candidate - self.base} version(s) behind the candidate"
        else:
            lag = "both sides are at the same version"
        return f"{lag}{what}: retry later"


# Asked only when the two answers differ, since it may cost a look-up.
FreshnessCheck = Callable[[], DataVersions | None]


@dataclass(frozen=True, slots=True)
class ComparisonResult:
    route: str
    verdict: Verdict
    differences: tuple[Difference, ...] = ()
    noise: tuple[DiscardedDifference, ...] = ()
    reason: str = ""
    signature: Signature = ()

    @property
    def equal(self) -> bool:
        return self.verdict in (Verdict.EQUAL, Verdict.NOISE_ONLY)
