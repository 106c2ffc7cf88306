"""The proxy's request path: match, decide, forward, record. Policy lives in the pure
modules (``normalise``, ``routing``, ``modes``, ``headers``); this module orchestrates."""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from proxy import metrics
from proxy.errors import (
    ClientTooSlow,
    NoRoute,
    ProxyError,
    RequestRejected,
    RequestTooLarge,
    UpstreamError,
    UpstreamTimeout,
)
from proxy.headers import IDENTITY_HEADERS, TrustedProxies, forwarded_for, strip_hop_by_hop
from proxy.health import HealthChecker
from proxy.identity import IDENTITY_HEADER, Identity, IdentityResolver, NoIdentity
from proxy.modes import Decision, decide
from proxy.normalise import decoded_path, normalise_path
from proxy.rewrite import rewrite_location, rewrite_set_cookie
from proxy.routing import RouteTable
from proxy.settings import ProxySettings
from proxy.shadow import CapturedResponse, ShadowDispatcher, ShadowJob
from proxy.table_store import TableStore
from proxy.upstreams import Upstream, UpstreamPool
from proxy.websocket import is_websocket_upgrade, relay_websocket
from strangler.request_ids import REQUEST_ID_HEADER, sanitise_request_id

__all__ = ["STATE", "ProxyState", "build_app"]

access_log = logging.getLogger("proxy.access")
logger = logging.getLogger(__name__)

COHORT_COOKIE = "strangler_cohort"
# A cohort cookie lives a year: a user stays on their side of a canary for its whole ramp.
COHORT_COOKIE_MAX_AGE = 365 * 24 * 3600
# Upstream answers up to this size are read whole and sent in one write (fewer syscalls and
# a body for the shadow comparison); bigger ones stream through in chunks of CHUNK_BYTES.
BUFFER_LIMIT_BYTES = 256 * 1024
CHUNK_BYTES = 64 * 1024
_NO_BODY_STATUSES = frozenset({204, 304})


@dataclass
class ProxyState:
    settings: ProxySettings
    store: TableStore
    trusted: TrustedProxies
    identity: IdentityResolver
    shadow: ShadowDispatcher
    health: HealthChecker


STATE = web.AppKey("proxy_state", ProxyState)


def _error(exc: ProxyError, request_id: str) -> web.Response:
    return web.json_response(
        {"code": exc.code, "message": exc.message},
        status=exc.status,
        headers={REQUEST_ID_HEADER: request_id},
    )


async def _limited_body(
    request: web.Request, settings: ProxySettings, failures: list[RequestRejected] | None = None
) -> AsyncIterator[bytes]:
    """The request body as it arrives, cut off when too large or too slow. A failure is also
    put in ``failures``: the client library reports it as its own connection error."""
    received = 0
    while True:
        try:
            async with asyncio.timeout(settings.client_body_timeout):
                chunk = await request.content.readany()
        except TimeoutError:
            problem: RequestRejected = ClientTooSlow(
                f"No body bytes arrived for {settings.client_body_timeout:g} s."
            )
        else:
            if not chunk:
                return
            received += len(chunk)
            if received <= settings.max_body_bytes:
                yield chunk
                continue
            problem = RequestTooLarge(f"The body is larger than {settings.max_body_bytes} bytes.")
        if failures is not None:
            failures.append(problem)
        raise problem


async def _read_body(request: web.Request, settings: ProxySettings, limit: int) -> bytes | None:
    """The whole body when it fits in ``limit``; ``None`` (nothing consumed) when it may not."""
    length = request.content_length
    if length is None or length > limit:
        return None
    return b"".join([chunk async for chunk in _limited_body(request, settings)])


class Forwarder:
    """One request through one decision; ``response`` is what the client gets."""

    def __init__(
        self,
        request: web.Request,
        state: ProxyState,
        request_id: str,
        table: RouteTable,
        upstreams: Mapping[str, Upstream],
    ) -> None:
        self.request = request
        self.state = state
        self.request_id = request_id
        # The table and upstreams as the request arrived: it keeps them to its end.
        self.table = table
        self.upstreams = upstreams
        self.upstream_seconds = 0.0
        self.fell_back = False
        self.body_failures: list[RequestRejected] = []

    def outgoing_headers(self, identity_value: str | None) -> CIMultiDict[str]:
        request = self.request
        headers = strip_hop_by_hop(request.headers, also=IDENTITY_HEADERS)
        forwarded_for(
            request.headers,
            headers,
            peer=request.remote,
            scheme=request.scheme,
            host=request.host,
            trusted=self.state.trusted,
        )
        headers[REQUEST_ID_HEADER] = self.request_id
        if identity_value is not None:
            headers[IDENTITY_HEADER] = identity_value
        return headers

    async def send(
        self, upstream: Upstream, target: str, headers: CIMultiDict[str], body: object
    ) -> aiohttp.ClientResponse:
        if not upstream.breaker.allow():
            metrics.UPSTREAM_ERRORS.labels(upstream.name, "circuit_open").inc()
            raise UpstreamError(
                f"{upstream.name} is failing; its circuit is open.", code="circuit_open"
            )
        started = time.perf_counter()
        try:
            response = await upstream.session.request(
                self.request.method,
                URL(upstream.base_url + target, encoded=True),
                headers=headers,
                data=body,
                allow_redirects=False,
            )
        except TimeoutError as exc:
            upstream.breaker.record_failure()
            metrics.UPSTREAM_ERRORS.labels(upstream.name, "timeout").inc()
            raise UpstreamTimeout(f"{upstream.name} did not answer in time.") from exc
        except aiohttp.ClientError as exc:
            if self.body_failures:  # the client's fault, not the upstream's
                raise self.body_failures[0] from exc
            upstream.breaker.record_failure()
            metrics.UPSTREAM_ERRORS.labels(upstream.name, "connect").inc()
            raise UpstreamError(f"{upstream.name} could not be reached.") from exc
        finally:
            self.upstream_seconds += time.perf_counter() - started
        if response.status >= 500:
            upstream.breaker.record_failure()
            metrics.UPSTREAM_ERRORS.labels(upstream.name, "status_5xx").inc()
        else:
            upstream.breaker.record_success()
        return response

    def _upstream_bases(self) -> list[str]:
        return [u.url for u in self.table.config.upstreams.values()]

    def response_headers(self, upstream_response: aiohttp.ClientResponse) -> CIMultiDict[str]:
        headers = strip_hop_by_hop(upstream_response.headers)
        if "Location" in headers:
            public = f"{self.request.scheme}://{self.request.host}"
            headers["Location"] = rewrite_location(
                headers["Location"], upstream_bases=self._upstream_bases(), public_base=public
            )
        if "Set-Cookie" in headers:
            hosts = [URL(base).host or "" for base in self._upstream_bases()]
            cookies = [
                rewrite_set_cookie(v, internal_hosts=hosts) for v in headers.getall("Set-Cookie")
            ]
            del headers["Set-Cookie"]
            for cookie in cookies:
                headers.add("Set-Cookie", cookie)
        headers[REQUEST_ID_HEADER] = self.request_id
        return headers


async def handle(request: web.Request) -> web.StreamResponse:
    arrived = time.perf_counter()
    state = request.app[STATE]
    request_id = sanitise_request_id(request.headers.get(REQUEST_ID_HEADER))
    try:
        path, _, query = request.raw_path.partition("?")
        canonical = normalise_path(path)
        if (
            request.content_length is not None
            and request.content_length > state.settings.max_body_bytes
        ):
            raise RequestTooLarge(f"The body is larger than {state.settings.max_body_bytes} bytes.")
    except RequestRejected as exc:
        return _error(exc, request_id)
    target = canonical + ("?" + query if query else "")

    # This request's table and upstreams to the end, whatever reloads happen meanwhile.
    table, upstreams = state.store.current, state.store.pool.current
    matched_path = decoded_path(canonical)
    if table.is_internal(matched_path):
        return _error(NoRoute("Not found.", code="not_found"), request_id)
    route = table.match(request.method, matched_path)
    forwarder = Forwarder(request, state, request_id, table, upstreams)

    identity = None
    needs_identity = route is not None and route.config.mode != "monolith"
    if needs_identity:
        identity = await state.identity.resolve(request.headers)
    cookie_key = request.cookies.get(COHORT_COOKIE)
    new_cookie = None
    if route is not None and route.config.mode == "canary" and identity is None and not cookie_key:
        cookie_key = new_cookie = secrets.token_urlsafe(16)
    decision = decide(
        route,
        legacy=table.legacy,
        method=request.method,
        cohort_key=identity.user_id if identity else cookie_key,
        shadow_draw=random.random(),  # noqa: S311 - sampling, not security
        force=state.identity.forced_side(request.headers) if route is not None else None,
    )
    try:
        response = await _serve(request, state, forwarder, decision, target, identity, new_cookie)
    except ProxyError as exc:
        response = _error(exc, request_id)
    _record(request, decision, forwarder, response, arrived, request_id)
    return response


async def _serve(
    request: web.Request,
    state: ProxyState,
    forwarder: Forwarder,
    decision: Decision,
    target: str,
    identity: Identity | None,
    new_cookie: str | None,
) -> web.StreamResponse:
    pool = forwarder.upstreams
    primary = pool[decision.primary]
    identity_value = (
        identity.header_value
        if identity is not None and decision.primary != forwarder.table.legacy
        else None
    )
    headers = forwarder.outgoing_headers(identity_value)
    if is_websocket_upgrade(request):
        return await relay_websocket(request, primary, target, headers)

    body: object = None
    buffered: bytes | None = None
    shadow_to = decision.shadow
    if request.can_read_body:
        limit = decision.route.config.shadow.max_body_bytes if decision.route else 0
        if shadow_to or decision.fallback:
            buffered = await _read_body(request, state.settings, limit)
            if buffered is None and shadow_to:
                state.shadow.skip(decision.route_name)
                shadow_to = None
        body = (
            buffered
            if buffered is not None
            else _limited_body(request, state.settings, forwarder.body_failures)
        )

    try:
        if decision.fallback and state.health.is_unhealthy(primary.name):
            raise UpstreamError(
                f"{primary.name} fails its health check.", code="upstream_unhealthy"
            )
        upstream_response = await forwarder.send(primary, target, headers, body)
        if (
            upstream_response.status >= 500
            and decision.fallback
            and (buffered is not None or body is None)
        ):
            upstream_response.release()
            raise UpstreamError(f"{primary.name} answered {upstream_response.status}.")
    except UpstreamError:
        if not decision.fallback or (body is not None and buffered is None):
            raise
        forwarder.fell_back = True
        metrics.FALLBACKS.labels(decision.route_name).inc()
        legacy = pool[decision.fallback]
        upstream_response = await forwarder.send(
            legacy, target, forwarder.outgoing_headers(None), buffered
        )

    try:
        response = await _relay(
            request, forwarder, upstream_response, new_cookie, want_body=shadow_to is not None
        )
    finally:
        upstream_response.release()

    captured = response.get(_CAPTURED)
    if shadow_to is not None and captured is not None:
        owner = pool[shadow_to]
        shadow_headers = forwarder.outgoing_headers(identity.header_value if identity else None)
        state.shadow.submit(
            ShadowJob(
                route=decision.route_name,
                base_url=owner.base_url,
                timeout=owner.config.timeouts.total,
                method=request.method,
                target=target,
                headers=shadow_headers,
                body=buffered,
                primary=captured,
            )
        )
    elif shadow_to is not None:
        state.shadow.skip(decision.route_name)
    return response


# Where _relay leaves the primary's answer for the shadow comparison (response state).
_CAPTURED = web.ResponseKey("captured", CapturedResponse)


async def _relay(
    request: web.Request,
    forwarder: Forwarder,
    upstream_response: aiohttp.ClientResponse,
    new_cookie: str | None,
    *,
    want_body: bool,
) -> web.StreamResponse:
    headers = forwarder.response_headers(upstream_response)
    status, reason = upstream_response.status, upstream_response.reason
    length = upstream_response.content_length
    no_body = request.method == "HEAD" or status in _NO_BODY_STATUSES
    started = time.perf_counter()
    data: bytes | None
    response: web.StreamResponse
    if not no_body and length is not None and length <= BUFFER_LIMIT_BYTES:
        # Read whole, answered by aiohttp in one write with the headers (measured: one
        # send() a response instead of three).
        data = await upstream_response.read()
        response = web.Response(status=status, reason=reason, headers=headers, body=data)
    elif no_body:
        data = b""
        response = web.Response(status=status, reason=reason, headers=headers)
    else:
        response = web.StreamResponse(status=status, reason=reason, headers=headers)
        _set_cohort_cookie(request, response, new_cookie)
        data = await _stream(request, response, upstream_response, want_body=want_body)
    if new_cookie is not None and isinstance(response, web.Response):
        _set_cohort_cookie(request, response, new_cookie)
    forwarder.upstream_seconds += time.perf_counter() - started
    if want_body and data is not None:
        response[_CAPTURED] = CapturedResponse(status, CIMultiDict(upstream_response.headers), data)
    return response


def _set_cohort_cookie(
    request: web.Request, response: web.StreamResponse, new_cookie: str | None
) -> None:
    if new_cookie is not None:
        response.set_cookie(
            COHORT_COOKIE, new_cookie, max_age=COHORT_COOKIE_MAX_AGE, httponly=True,
            samesite="Lax", secure=request.secure,
        )  # fmt: skip


async def _stream(
    request: web.Request,
    response: web.StreamResponse,
    upstream_response: aiohttp.ClientResponse,
    *,
    want_body: bool,
) -> bytes | None:
    """Pass a large or unsized body through chunk by chunk; keep a copy for the shadow only
    while it stays under the buffering limit."""
    chunks: list[bytes] | None = [] if want_body else None
    size = 0
    try:
        await response.prepare(request)
        async for chunk in upstream_response.content.iter_chunked(CHUNK_BYTES):
            if chunks is not None:
                size += len(chunk)
                chunks = chunks if size <= BUFFER_LIMIT_BYTES else None
                if chunks is not None:
                    chunks.append(chunk)
            await response.write(chunk)
        await response.write_eof()
    except ConnectionError:
        # The client went away mid-answer: nothing to tell it, nothing wrong upstream.
        # Returning the response lets aiohttp close the connection quietly.
        metrics.CLIENT_DISCONNECTS.inc()
        return None
    return b"".join(chunks) if chunks is not None else None


@functools.lru_cache(maxsize=4096)
def _children(route: str, upstream: str, mode: str, status: int) -> tuple[Any, Any, Any]:
    """The labelled metrics of one kind of request, looked up once: ``labels()`` validates and
    locks on every call (profiled: 4 % of the proxy's time per request)."""
    return (
        metrics.REQUESTS.labels(route, upstream, mode, str(status)),
        metrics.REQUEST_LATENCY.labels(route, upstream),
        metrics.ADDED_LATENCY.labels(route),
    )


def _record(
    request: web.Request,
    decision: Decision,
    forwarder: Forwarder,
    response: web.StreamResponse,
    arrived: float,
    request_id: str,
) -> None:
    total = time.perf_counter() - arrived
    upstream = decision.fallback if forwarder.fell_back else decision.primary
    route = decision.route_name
    requests, latency, added = _children(route, upstream, decision.mode, response.status)
    requests.inc()
    latency.observe(total)
    added.observe(max(total - forwarder.upstream_seconds, 0.0))
    if access_log.isEnabledFor(logging.INFO):
        access_log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status,
            extra={
                "request_id": request_id,
                "method": request.method,
                "path": request.path,
                "status": response.status,
                "route": route,
                "owner": decision.route.config.owner if decision.route else decision.primary,
                "upstream": upstream,
                "mode": decision.mode,
                "cohort": decision.cohort,
                "fallback": forwarder.fell_back,
                "shadow": decision.shadow is not None,
                "duration_ms": round(total * 1000, 3),
                "added_ms": round(max(total - forwarder.upstream_seconds, 0.0) * 1000, 3),
            },
        )


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _readyz(request: web.Request) -> web.Response:
    state = request.app[STATE]
    table = state.store.current
    legacy = state.store.pool[table.legacy]
    ready = legacy.breaker.state != "open" and not state.health.is_unhealthy(legacy.name)
    upstreams = {
        name: {"healthy": status.healthy, "error": status.last_error}
        for name, status in state.health.status.items()
    }
    return web.json_response(
        {
            "status": "ok" if ready else "unavailable",
            "routes": len(table.routes),
            "upstreams": upstreams,
        },
        status=200 if ready else 503,
    )


def build_app(
    settings: ProxySettings,
    *,
    identity: IdentityResolver | None = None,
    shadow: ShadowDispatcher | None = None,
) -> web.Application:
    """The public application; ``cleanup_ctx`` loads the table and owns every session."""
    app = web.Application(client_max_size=settings.max_body_bytes)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        store = TableStore(settings.routes_path, UpstreamPool())
        store.load()
        dispatcher = shadow or ShadowDispatcher()
        await dispatcher.start()
        health = HealthChecker(store.pool, interval=settings.health_interval)
        app[STATE] = ProxyState(
            settings=settings,
            store=store,
            trusted=TrustedProxies(settings.trusted_proxies),
            identity=identity
            or NoIdentity.unless_configured(
                settings.identity_secret,
                monolith_url=lambda: store.current.config.upstreams[store.current.legacy].url,
            ),
            shadow=dispatcher,
            health=health,
        )
        watcher = asyncio.create_task(store.watch())
        checker = asyncio.create_task(health.run())
        yield
        watcher.cancel()
        checker.cancel()
        await dispatcher.close()
        await app[STATE].identity.close()
        await store.close()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_route("GET", "/healthz", _healthz)
    app.router.add_route("GET", "/readyz", _readyz)
    app.router.add_route("*", "/{tail:.*}", handle)
    return app
