"""Side by side: one request to the base (the monolith) and to the candidate (an extracted
service), compared by the comparison engine, failing with a field-level diff a person can
act on.

Each side gets what the proxy would send it: the caller's own credentials, and to the
candidate also the signed identity the proxy resolves them to. The base is called twice,
so a value the base itself changes between two calls (a timestamp) is noise, not a failure.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from strangler.compare import (
    CompareEngine,
    ComparisonResult,
    Headers,
    HttpRequest,
    HttpResponse,
    RuleBook,
    headers_of,
)
from strangler.compare.curl import curl_command

__all__ = ["Credentials", "SideBySide", "Sides", "describe_failure"]

# A local request to either server takes a few ms; 10 s only trips on a hung server.
REQUEST_TIMEOUT_SECONDS = 10
# Columns of a failure's table: wide enough for a JSON path and a short value each.
_WHERE, _KIND, _VALUE = 34, 8, 28

# (base headers, candidate headers) for a caller name; None is anonymous.
Credentials = Callable[[str | None], tuple[Headers, Headers]]


@dataclass(frozen=True)
class Sides:
    base: str  # URL
    candidate: str
    base_name: str = "base"
    candidate_name: str = "candidate"


def _cell(value: str | None, width: int) -> str:
    text = "(absent)" if value is None else value
    return text if len(text) <= width else text[: width - 1] + "…"


def describe_failure(
    what: str, result: ComparisonResult, request: HttpRequest, sides: Sides
) -> str:
    """The failure message: what was asked, each real difference as one row, and a curl
    line to reproduce it against the base."""
    lines = [f"{what}: {sides.candidate_name} answers differently from {sides.base_name}"]
    if result.reason:
        lines[0] += f" ({result.reason})"
    if result.differences:
        lines.append(
            f"  {'where':<{_WHERE}} {'kind':<{_KIND}} {sides.base_name:<{_VALUE}} "
            f"{sides.candidate_name}"
        )
        for d in result.differences:
            lines.append(
                f"  {_cell(d.path, _WHERE):<{_WHERE}} {d.kind.value:<{_KIND}} "
                f"{_cell(d.base, _VALUE):<{_VALUE}} {_cell(d.candidate, _VALUE)}"
            )
            if d.detail:
                lines.append(f"  {'':<{_WHERE}} {d.detail}")
    lines.append(f"  reproduce: {curl_command(request)}")
    return "\n".join(lines)


class SideBySide:
    def __init__(
        self,
        sides: Sides,
        *,
        rules: RuleBook | None = None,
        credentials: Credentials | None = None,
        host: str | None = None,
    ) -> None:
        self.sides = sides
        self.engine = CompareEngine(rules)
        self.credentials = credentials or (lambda caller: ((), ()))
        self.host = host
        self.session = requests.Session()

    def _ask(self, url: str, request: HttpRequest, extra: Headers) -> HttpResponse:
        response = self.session.request(
            request.method,
            url + request.target,
            data=request.body or None,
            headers=dict(request.headers + extra),
            timeout=REQUEST_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
        return HttpResponse(
            response.status_code, headers_of(response.headers), response.content, url
        )

    def compare(
        self,
        method: str,
        path: str,
        *,
        caller: str | None = None,
        body: Any = None,
        route: str = "side-by-side",
    ) -> tuple[ComparisonResult, HttpRequest]:
        headers: Headers = (("Host", self.host),) if self.host else ()
        data = b""
        if body is not None:
            data = json.dumps(body).encode()
            headers += (("Content-Type", "application/json"),)
        request = HttpRequest(method, path, headers, data, self.sides.base)
        base_extra, candidate_extra = self.credentials(caller)
        started = time.perf_counter()
        base = self._ask(self.sides.base, request, base_extra)
        base_seconds = time.perf_counter() - started
        started = time.perf_counter()
        candidate = self._ask(self.sides.candidate, request, candidate_extra)
        candidate_seconds = time.perf_counter() - started
        base_again = self._ask(self.sides.base, request, base_extra) if _safe(method) else None
        result = self.engine.compare(
            route,
            request,
            base,
            candidate,
            base_again=base_again,
            base_latency=base_seconds,
            candidate_latency=candidate_seconds,
        )
        # What the failure shows as "reproduce": the base's request with its credentials.
        shown = HttpRequest(method, path, headers + base_extra, data, self.sides.base)
        return result, shown

    def assert_same(
        self, method: str, path: str, *, caller: str | None = None, body: Any = None
    ) -> ComparisonResult:
        """Compare, and fail with the field-level diff unless the answers agree (noise
        aside)."""
        result, shown = self.compare(method, path, caller=caller, body=body)
        if not result.equal:
            what = f"{method} {path} as {caller or 'anonymous'}"
            raise AssertionError(describe_failure(what, result, shown, self.sides))
        return result


def _safe(method: str) -> bool:
    return method.upper() in ("GET", "HEAD", "OPTIONS")
