"""The ``side_by_side`` fixture's object: one request to two servers, or one call to two
code paths, judged by the comparison engine; a real difference fails the test.

``request`` builds the request once (``requests``' own ``params``, ``json``, ``data``,
``headers``, ... keywords) and sends the very same bytes to the base and the candidate,
then, for a safe method, to the base a second time: what the base changes between two of its
own answers (a timestamp, a request id) is noise for this request, as in the proxy's shadow
mode. Each request stands alone: no cookie an answer sets rides on the next.

``run`` is GitHub Scientist's experiment in a test: the old path, then the new, with the
same arguments (a path that mutates them shows its change to the other). Both returning
values that agree under the rules, or both raising the same exception type, is a match:
the old path's value is returned, or its exception raised. Anything else fails the test.

A test keeps one engine, so the clusters in a failure are this test's own.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests

from strangler.compare import (
    CandidateFailure,
    CompareEngine,
    CompareError,
    CompareRules,
    ComparisonResult,
    HttpRequest,
    HttpResponse,
    headers_of,
)
from strangler.compare.redact import redact_target, redact_text
from strangler.pytest_plugin.failures import fail
from strangler.pytest_plugin.jsonlike import NotJsonLike, json_body
from strangler.pytest_plugin.render import (
    describe_answers,
    describe_outcomes,
    describe_values,
    shown_outcome,
)
from strangler.pytest_plugin.rules import (
    GivenRules,
    RuleTable,
    extend,
    load_table,
    rules_of,
)
from strangler.pytest_plugin.settings import PluginSettings, SidesNotConfigured

__all__ = ["Answers", "SideBySide", "SideBySideDifference"]

T = TypeVar("T")

# A request to a local or LAN server answers in milliseconds; 10 s is a hung side.
REQUEST_TIMEOUT_SECONDS = 10.0
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The origin a request is built against before it goes to each side's own.
_NOWHERE = "http://side-by-side.invalid"
_JSON: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)


class SideBySideDifference(AssertionError):
    """The two sides disagree; the message holds the difference clusters."""


@dataclass(frozen=True, slots=True)
class Answers:
    """What a compared request got: the verdict and both answers, for further asserts."""

    result: ComparisonResult
    request: HttpRequest
    base: HttpResponse
    candidate: HttpResponse | CandidateFailure


@dataclass(frozen=True, slots=True)
class _Outcome:
    value: Any = None
    error: Exception | None = None


def _call(function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Outcome:
    try:
        return _Outcome(value=function(*args, **kwargs))
    # Any exception is an outcome to compare, not a failure of the plugin; pytest's own
    # outcomes (skip, fail) and KeyboardInterrupt are BaseExceptions and pass through.
    except Exception as exc:
        return _Outcome(error=exc)


def _name(function: Callable[..., Any]) -> str:
    return getattr(function, "__qualname__", None) or repr(function)


class SideBySide:
    def __init__(
        self,
        settings: PluginSettings,
        *,
        rules: GivenRules = None,
        route: str | None = None,
        engine: CompareEngine | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.settings = settings
        self.route = route
        self.engine = engine or CompareEngine()
        self._session = session
        self._owns_session = session is None
        self._rules = None if rules is None else self._checked(rules, "side_by_side marker rules")

    def using(self, *, rules: GivenRules = None, route: str | None = None) -> SideBySide:
        """The same sides with more rules (on top of the marker's) or another route name;
        it shares this test's engine, so its clusters show in the same failures."""
        merged = self._rules
        if rules is not None:
            extra = self._checked(rules, "side_by_side.using rules")
            merged = extra if merged is None else extend(merged, extra)
        return SideBySide(
            self.settings,
            rules=merged,
            route=route or self.route,
            engine=self.engine,
            session=self.session,
        )

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            self._session = requests.Session()
        return self._session

    def close(self) -> None:
        if self._owns_session and self._session is not None:
            self._session.close()

    # -- one request to both servers ------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        rules: GivenRules = None,
        route: str | None = None,
        candidate_headers: dict[str, str] | None = None,
        repeat_base: bool | None = None,
        timeout: float = REQUEST_TIMEOUT_SECONDS,
        **kwargs: Any,
    ) -> Answers:
        """Send ``method path`` to both sides and fail the test unless they agree.

        ``kwargs`` go to ``requests.Request`` (``params``, ``json``, ``data``, ``headers``,
        ``cookies``, ...); ``candidate_headers`` are sent to the candidate only (the signed
        identity the proxy would add). ``repeat_base``: call the base twice to tell its own
        noise apart; by default for GET, HEAD and OPTIONS."""
        __tracebackhide__ = True
        try:
            base_url, candidate_url = self.settings.urls()
        except SidesNotConfigured as exc:
            fail(str(exc))
        if not path.startswith("/"):
            fail(f"side_by_side.request: {path!r} must be a path starting with /")
        # Built once, against no side: the very same target, headers and body go to both.
        prepared = requests.Request(method.upper(), _NOWHERE + path, **kwargs).prepare()
        body = prepared.body or b""
        body = body.encode() if isinstance(body, str) else body
        if not isinstance(body, bytes):
            fail("side_by_side.request sends bodies it can read twice: no streams")
        target = prepared.path_url
        sent = HttpRequest(prepared.method or method, target, headers_of(prepared.headers), body)
        shown = HttpRequest(sent.method, target, sent.headers, body, base_url)
        route_name = route or self.route or self._table().route_of(sent.method, target)
        self._use_rules(route_name, rules, "side_by_side.request rules")
        extra = tuple((candidate_headers or {}).items())
        started = time.perf_counter()
        base = self._send(base_url, sent, (), timeout)
        base_seconds = time.perf_counter() - started
        if isinstance(base, CandidateFailure):
            fail(
                f"{sent.method} {redact_target(target)}: the base at {base_url} gave no answer "
                f"({base.kind}: {base.detail}); nothing to compare against"
            )
        started = time.perf_counter()
        candidate = self._send(candidate_url, sent, extra, timeout)
        candidate_seconds = time.perf_counter() - started
        again = None
        if repeat_base if repeat_base is not None else sent.method in SAFE_METHODS:
            repeat = self._send(base_url, sent, (), timeout)
            again = repeat if isinstance(repeat, HttpResponse) else None
        result = self.engine.compare(
            route_name,
            shown,
            base,
            candidate,
            base_again=again,
            base_latency=base_seconds,
            candidate_latency=candidate_seconds,
        )
        if not result.equal:
            raise SideBySideDifference(
                describe_answers(
                    result,
                    self.engine.report(route_name),
                    what=f"{sent.method} {redact_target(target)}",
                    base=base_url,
                    candidate=candidate_url,
                )
            )
        return Answers(result, shown, base, candidate)

    def _send(
        self, origin: str, request: HttpRequest, extra: tuple[tuple[str, str], ...], timeout: float
    ) -> HttpResponse | CandidateFailure:
        prepared = requests.PreparedRequest()
        prepared.prepare(
            method=request.method,
            url=origin + request.target,
            headers=dict(request.headers + extra),
            data=request.body or None,
        )
        try:
            response = self.session.send(prepared, timeout=timeout, allow_redirects=False)
        except requests.Timeout:
            return CandidateFailure("timeout", f"no answer in {timeout:g} s")
        except requests.ConnectionError as exc:
            return CandidateFailure("connect", redact_text(str(exc)))
        except requests.RequestException as exc:
            return CandidateFailure("protocol", redact_text(str(exc)) or type(exc).__name__)
        finally:
            self.session.cookies.clear()
        return HttpResponse(
            response.status_code, headers_of(response.headers), response.content, origin
        )

    # -- one call to two code paths -------------------------------------------------------

    def run(
        self, old: Callable[..., T], new: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> T:
        """Call ``old`` then ``new`` with the same arguments; return ``old``'s value, or
        raise its exception, when they agree; fail the test when they do not."""
        __tracebackhide__ = True
        old_name, new_name = _name(old), _name(new)
        first, second = _call(old, args, kwargs), _call(new, args, kwargs)
        if first.error is not None and type(first.error) is type(second.error):
            raise first.error
        if first.error is not None or second.error is not None:
            raise SideBySideDifference(
                describe_outcomes(
                    old=old_name,
                    new=new_name,
                    old_shown=self._shown(first, old_name),
                    new_shown=self._shown(second, new_name),
                )
            )
        route = self.route or f"run:{old_name}"
        self._use_rules(route, None, "")
        try:
            base = HttpResponse(200, _JSON, json_body(first.value, who=old_name))
            candidate = HttpResponse(200, _JSON, json_body(second.value, who=new_name))
        except NotJsonLike as exc:
            fail(f"side_by_side.run compares JSON-like values: {exc}")
        result = self.engine.compare(route, HttpRequest("CALL", f"/{old_name}"), base, candidate)
        if not result.equal:
            raise SideBySideDifference(
                describe_values(result, self.engine.report(route), old=old_name, new=new_name)
            )
        value: T = first.value
        return value

    def _shown(self, outcome: _Outcome, who: str) -> str:
        if outcome.error is not None:
            return shown_outcome(None, outcome.error)
        try:
            return shown_outcome(json.loads(json_body(outcome.value, who=who)), None)
        except NotJsonLike:
            return f"returned a {type(outcome.value).__qualname__}"

    # -- rules ----------------------------------------------------------------------------

    def _table(self) -> RuleTable:
        __tracebackhide__ = True
        try:
            return load_table(self.settings.routes)
        except (CompareError, OSError) as exc:
            fail(f"side_by_side: the route table cannot be used: {exc}")

    def _checked(self, given: GivenRules, source: str) -> CompareRules:
        __tracebackhide__ = True
        try:
            return rules_of(given, source=source)
        except CompareError as exc:
            fail(f"{source}: {exc}")

    def _use_rules(self, route: str, given: GivenRules, source: str) -> None:
        """The engine judges ``route`` under the table's rules, the marker's and the call's."""
        __tracebackhide__ = True
        added = [r for r in (self._rules,) if r is not None]
        if given is not None:
            added.append(self._checked(given, source))
        try:
            self.engine.rules = self._table().book(route, *added)
        except CompareError as exc:
            fail(f"side_by_side rules for route {route}: {exc}")
