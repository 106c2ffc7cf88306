"""The proxy's request path: match, decide, forward, record. Policy lives in the pure
modules (``normalise``, ``routing``, ``modes``, ``headers``); this module orchestrates."""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Mapping
from dataclasses import dataclass

from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from proxy import metrics
from proxy.capture import RequestCapture
from proxy.comparing import rules_text
from proxy.config import SAFE_METHODS
from proxy.credentials import without_monolith_credentials
from proxy.errors import (
    ClientTooSlow,
    NoRoute,
    ProxyError,
    RequestRejected,
    RequestTooLarge,
    UpstreamError,
    WritesHeld,
)
from proxy.headers import TrustedProxies, decoded, request_headers, response_headers
from proxy.health import HealthChecker
from proxy.identity import Identity, IdentityResolver, NoIdentity
from proxy.modes import Decision, decide
from proxy.normalise import canonical_paths
from proxy.read_your_writes import WROTE_COOKIE, WroteCookies
from proxy.relay import CAPTURED, COHORT_COOKIE, Answer, relay, relay_now
from proxy.rewrite import rewrite_location, rewrite_set_cookie
from proxy.routing import RouteTable
from proxy.settings import ProxySettings
from proxy.shadow import WANT_VERSIONS, ShadowDispatcher, ShadowJob
from proxy.table_store import TableStore
from proxy.upstream_client import Body
from proxy.upstream_response import UpstreamResponse
from proxy.upstreams import Upstream, UpstreamPool
from proxy.websocket import is_websocket_upgrade, relay_websocket
from strangler.request_ids import REQUEST_ID_HEADER, sanitise_request_id

__all__ = ["STATE", "ProxyState", "build_app"]

access_log = logging.getLogger("proxy.access")
logger = logging.getLogger(__name__)

_ids = random.Random()  # noqa: S311 - request ids name requests; they guard nothing


@dataclass
class ProxyState:
    settings: ProxySettings
    store: TableStore
    trusted: TrustedProxies
    identity: IdentityResolver
    shadow: ShadowDispatcher
    health: HealthChecker
    capture: RequestCapture
    wrote: WroteCookies


STATE = web.AppKey("proxy_state", ProxyState)


def _error(exc: ProxyError, request_id: str) -> web.Response:
    headers = {REQUEST_ID_HEADER: request_id}
    if isinstance(exc, WritesHeld):
        headers["Retry-After"] = str(exc.retry_after_seconds)
    return web.json_response(
        {"code": exc.code, "message": exc.message}, status=exc.status, headers=headers
    )


async def _wait_for_release(store: TableStore, name: str) -> None:
    """Wait while route ``name`` is held; :class:`WritesHeld` once the hold's bound passes.

    Woken by every change of the table or the holds (this worker's watch polls the file)."""
    while True:
        until = store.holds.get(name, 0.0)
        if until <= 0:
            return  # released
        remaining = until - time.time()
        if remaining <= 0:
            raise WritesHeld(
                f"Writes to route {name!r} are held for a cutover and the hold outlived its "
                f"bound; retry shortly."
            )
        try:
            async with asyncio.timeout(remaining):
                await store.changed()
        except TimeoutError:
            continue


async def _limited_body(request: web.BaseRequest, settings: ProxySettings) -> AsyncIterator[bytes]:
    """The request body as it arrives, cut off when too large or too slow; the upstream
    client passes the failure on to the caller."""
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
        raise problem


async def _buffer_body(
    request: web.BaseRequest, settings: ProxySettings, *, may_stream: bool
) -> tuple[bytes | None, Body]:
    """The body read whole before any upstream is asked (``(body, None)``), within the total
    time limit; or, above the buffer on a route that streams, ``(None, the rest)``."""
    limit = settings.body_buffer_bytes
    length = request.content_length
    if length is not None and length > limit:
        if not may_stream:
            raise _too_large_to_buffer(limit)
        return None, _limited_body(request, settings)
    chunks: list[bytes] = []
    size = 0
    arriving = _limited_body(request, settings)
    try:
        async with asyncio.timeout(settings.client_body_total_timeout):
            async for chunk in arriving:
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:  # a chunked body that outgrew the buffer
                    if not may_stream:
                        raise _too_large_to_buffer(limit)
                    return None, _chained(chunks, arriving)
    except TimeoutError:
        raise ClientTooSlow(
            f"The body did not arrive within {settings.client_body_total_timeout:g} s."
        ) from None
    return b"".join(chunks), None


def _too_large_to_buffer(limit: int) -> RequestTooLarge:
    return RequestTooLarge(
        f"The body is larger than {limit} bytes, the most this route takes; send a smaller "
        "one (routes that take uploads say stream_request_body: true).",
        code="body_too_large_to_buffer",
    )


async def _chained(first: list[bytes], rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in first:
        yield chunk
    async for chunk in rest:
        yield chunk


class Forwarder:
    """One request through one decision; ``response`` is what the client gets."""

    def __init__(
        self,
        request: web.BaseRequest,
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

    def outgoing_headers(
        self, identity_value: str | None, *, to_service: bool
    ) -> list[tuple[bytes, bytes]]:
        """The headers for the legacy upstream, or for a service (``to_service``): then
        without the monolith's credentials (proxy.credentials)."""
        request = self.request
        headers = request_headers(
            request.raw_headers,
            peer=request.remote,
            scheme=request.scheme,
            host=request.host,
            trusted=self.state.trusted,
            request_id=self.request_id,
            identity=identity_value,
        )
        if not to_service:
            return headers
        return without_monolith_credentials(
            headers, allowed_cookies=self.table.config.service_cookie_names
        )

    async def send(
        self, upstream: Upstream, target: str, headers: list[tuple[bytes, bytes]], body: Body
    ) -> UpstreamResponse:
        if not upstream.breaker.allow():
            metrics.UPSTREAM_ERRORS.labels(upstream.name, "circuit_open").inc()
            raise UpstreamError(
                f"{upstream.name} is failing; its circuit is open.", code="circuit_open"
            )
        started = time.perf_counter()
        try:
            response = await upstream.client.request(self.request.method, target, headers, body)
        except UpstreamError as exc:
            upstream.breaker.record_failure()
            metrics.UPSTREAM_ERRORS.labels(upstream.name, exc.kind).inc()
            raise
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

    def response_headers(self, upstream_response: UpstreamResponse) -> CIMultiDict[str]:
        headers = response_headers(upstream_response.raw_headers)
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


async def handle(request: web.BaseRequest, state: ProxyState) -> web.StreamResponse:
    arrived = time.perf_counter()
    given_id = request.headers.get(REQUEST_ID_HEADER)
    # The id format of sanitise_request_id (32 hex digits) from a cheaper source than
    # uuid4() (profiled: 2 % of the request); an id names a request, it guards nothing.
    request_id = sanitise_request_id(given_id) if given_id else _ids.randbytes(16).hex()
    try:
        path, _, query = request.raw_path.partition("?")
        canonical, matched_path = canonical_paths(path)
        length = request.content_length
        if length is not None and length > state.settings.max_body_bytes:
            raise RequestTooLarge(f"The body is larger than {state.settings.max_body_bytes} bytes.")
    except RequestRejected as exc:
        return _error(exc, request_id)
    target = canonical + ("?" + query if query else "")

    # This request's table and upstreams to the end, whatever reloads happen meanwhile.
    table, upstreams = state.store.current, state.store.pool.current
    if table.is_internal(matched_path):
        return _error(NoRoute("Not found.", code="not_found"), request_id)
    route = table.match(request.method, matched_path)
    if (
        route is not None
        and state.store.holds  # empty but for a cutover: one truth test per request
        and request.method not in SAFE_METHODS
        and state.store.holds.get(route.name, 0.0) > time.time()
    ):
        waiting = metrics.HELD_REQUESTS.labels(route.name)
        waiting.inc()
        try:
            await _wait_for_release(state.store, route.name)
        except WritesHeld as exc:
            metrics.HELD_OUTCOMES.labels(route.name, "expired").inc()
            return _error(exc, request_id)
        finally:
            waiting.dec()
        metrics.HELD_OUTCOMES.labels(route.name, "released").inc()
        # Released: the cutover may have moved the route; route on the table now in force.
        table, upstreams = state.store.current, state.store.pool.current
        route = table.match(request.method, matched_path)
    forwarder = Forwarder(request, state, request_id, table, upstreams)

    identity = None
    needs_identity = route is not None and route.config.mode != "monolith"
    if needs_identity:
        identity = await state.identity.resolve(request.headers)
    cookie_key = new_cookie = None
    if route is not None and route.config.mode == "canary" and identity is None:
        cookie_key = request.cookies.get(COHORT_COOKIE)  # parsed only when it decides
        if not cookie_key:
            cookie_key = new_cookie = secrets.token_urlsafe(16)
    shadow_draw = 1.0  # drawn only where it decides: on a shadow route
    if route is not None and route.config.mode == "shadow":
        shadow_draw = random.random()  # noqa: S311 - sampling, not security
    wrote_recently = False
    if (
        route is not None
        and route.config.mode in _SPLIT_READ_MODES
        and request.method in SAFE_METHODS
    ):
        wrote_recently = state.wrote.names(
            request.cookies.get(WROTE_COOKIE),
            writer=route.config.writer(table.legacy),
            now=time.time(),
        )
    decision = decide(
        route,
        legacy=table.legacy,
        method=request.method,
        cohort_key=identity.user_id if identity else cookie_key,
        shadow_draw=shadow_draw,
        force=state.identity.forced_side(request.headers) if route is not None else None,
        wrote_recently=wrote_recently,
    )
    try:
        response = await _serve(request, state, forwarder, decision, target, identity, new_cookie)
    except ProxyError as exc:
        response = _error(exc, request_id)
    _record(request, decision, forwarder, response, arrived, request_id)
    return response


async def _serve(
    request: web.BaseRequest,
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
    to_legacy = decision.primary == forwarder.table.legacy
    headers = forwarder.outgoing_headers(identity_value, to_service=not to_legacy)
    # The monolith's own headers, for the shadow asking it again (proxy.shadow).
    legacy_headers = headers if to_legacy else None
    if decision.shadow:  # the monolith says which data versions it answered with
        headers = [*headers, WANT_VERSIONS]
    if is_websocket_upgrade(request):
        return await relay_websocket(request, primary, target, decoded(headers))

    body: Body = None
    buffered: bytes | None = None
    shadow_to = decision.shadow
    if request.can_read_body:
        # Read whole before an upstream is asked (a slow client costs the proxy only); it
        # then goes out with the head in one write, and a shadow or a fallback can send it
        # twice. Only a route that streams bodies passes a larger one through as it comes.
        route = decision.route
        buffered, body = await _buffer_body(
            request,
            state.settings,
            may_stream=route is not None and route.config.stream_request_body,
        )
        if shadow_to and (
            buffered is None or route is None or len(buffered) > route.config.shadow.max_body_bytes
        ):
            state.shadow.skip(decision.route_name)
            shadow_to = None
        if buffered is not None:
            body = buffered
    capture = state.capture
    if capture.enabled and decision.route is not None and capture.wants(decision.route_name):
        # Recorded as the client sent it; a streamed body is copied as it passes.
        body = capture.record(
            decision.route_name, request.method, target, request.raw_headers, body
        )

    try:
        if decision.fallback and state.health.is_unhealthy(primary.name):
            raise UpstreamError(
                f"{primary.name} fails its health check.", code="upstream_unhealthy"
            )
        answering = primary
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
        answering = pool[decision.fallback]
        upstream_response = await forwarder.send(
            answering, target, forwarder.outgoing_headers(None, to_service=False), buffered
        )

    try:
        answer = Answer(
            upstream_response,
            forwarder.response_headers(upstream_response),
            upstream=answering.name,
            new_cookie=new_cookie,
            want_body=shadow_to is not None,
            wrote_cookie=_wrote_cookie(
                state, forwarder.table, decision, request.method, upstream_response
            ),
        )
        response: web.StreamResponse | None = relay_now(request, answer)
        if response is None:
            started = time.perf_counter()
            try:
                response = await relay(request, answer)
            finally:  # waiting for the rest of the body is waiting on the upstream
                forwarder.upstream_seconds += time.perf_counter() - started
    finally:
        upstream_response.release()

    if shadow_to is None:
        return response
    # (Looked up only here: a response is a Mapping whose get() raises and catches a
    # KeyError when the key is missing, a cost every request paid.)
    captured = response.get(CAPTURED)
    if captured is None:
        state.shadow.skip(decision.route_name)
        return response
    owner, legacy = pool[shadow_to], pool[forwarder.table.legacy]
    shadow_headers = forwarder.outgoing_headers(
        identity.header_value if identity else None, to_service=True
    )
    config = decision.route.config.shadow if decision.route else None
    repeat = (
        config is not None
        and request.method in SAFE_METHODS
        and random.random() < config.noise_sample_rate  # noqa: S311 - sampling
    )
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
            rules=_rules(state, forwarder.table),
            legacy_url=legacy.base_url,
            legacy_timeout=legacy.config.timeouts.total,
            primary_seconds=forwarder.upstream_seconds,
            repeat_base=repeat,
            repeat_candidate=repeat and config is not None and config.candidate_twice,
            legacy_headers=legacy_headers
            if legacy_headers is not None
            else forwarder.outgoing_headers(None, to_service=False),
        )
    )
    return response


# Modes in which a read may be answered by a side other than the write owner.
_SPLIT_READ_MODES = frozenset({"canary", "service"})


def _wrote_cookie(
    state: ProxyState,
    table: RouteTable,
    decision: Decision,
    method: str,
    upstream_response: UpstreamResponse,
) -> tuple[str, int] | None:
    """The read-your-writes cookie (value, seconds) for a write the write owner accepted on a
    route whose reads may go elsewhere; ``None`` for everything else."""
    route = decision.route
    if (
        route is None
        or method in SAFE_METHODS
        or route.config.mode not in _SPLIT_READ_MODES
        or upstream_response.status >= 400
        or not state.wrote.enabled
    ):
        return None
    seconds = table.config.read_your_writes_seconds
    if seconds <= 0:
        return None
    return state.wrote.issue(writer=decision.primary, now=time.time(), seconds=seconds), seconds


def _rules(state: ProxyState, table: RouteTable) -> str:
    config = table.config
    return state.shadow.compare.rules_for(
        config,
        lambda: rules_text(
            config.compare, {r.name: r.compare for r in config.routes if r.compare is not None}
        ),
    )


def _record(
    request: web.BaseRequest,
    decision: Decision,
    forwarder: Forwarder,
    response: web.StreamResponse,
    arrived: float,
    request_id: str,
) -> None:
    total = time.perf_counter() - arrived
    upstream = (decision.fallback if forwarder.fell_back else None) or decision.primary
    route = decision.route_name
    added = max(total - forwarder.upstream_seconds, 0.0)
    metrics.TALLY.record(route, upstream, decision.mode, response.status, total, added)
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
                "added_ms": round(added * 1000, 3),
            },
        )


async def _healthz() -> web.Response:
    return web.json_response({"status": "ok"})


async def _readyz(state: ProxyState) -> web.Response:
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


def dispatch(request: web.BaseRequest, state: ProxyState) -> Awaitable[web.StreamResponse]:
    """The answer to any request on the public port: the proxy's own health views, else
    ``handle``. A plain function returning the coroutine that answers: one coroutine fewer
    a request, and one string test instead of aiohttp's router (profiled: ~8 us)."""
    if request.method == "GET" and request.raw_path.startswith(_OWN_PATHS):
        path = request.raw_path.partition("?")[0]
        if path == "/healthz":
            return _healthz()
        if path == "/readyz":
            return _readyz(state)
    return handle(request, state)


_OWN_PATHS = ("/healthz", "/readyz")


async def _routed(request: web.Request) -> web.StreamResponse:
    return await dispatch(request, request.app[STATE])


async def _flush_metrics() -> None:
    while True:
        await asyncio.sleep(metrics.FLUSH_SECONDS)
        metrics.TALLY.flush()


def build_app(
    settings: ProxySettings,
    *,
    identity: IdentityResolver | None = None,
    shadow: ShadowDispatcher | None = None,
) -> web.Application:
    """The public application; ``cleanup_ctx`` loads the table and owns every connection
    pool. ``proxy.server.PublicServer`` serves it through aiohttp's low-level server; its
    one catch-all route serves it the same way under any aiohttp runner (``TestServer``)."""
    app = web.Application(client_max_size=settings.max_body_bytes)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        store = TableStore(settings.routes_path, UpstreamPool(), sync_secret=settings.sync_secret)
        await store.load()
        dispatcher = shadow or ShadowDispatcher()
        await dispatcher.start()
        health = HealthChecker(store.pool, interval=settings.health_interval)
        capture = RequestCapture(settings.var_dir)
        capture.configure(store.current.config)
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
            capture=capture,
            wrote=WroteCookies(secret=settings.identity_secret),
        )
        watcher = asyncio.create_task(store.watch())
        checker = asyncio.create_task(health.run())
        flusher = asyncio.create_task(_flush_metrics())
        capture_follower = asyncio.create_task(capture.follow(store))
        yield
        capture_follower.cancel()
        watcher.cancel()
        checker.cancel()
        flusher.cancel()
        metrics.TALLY.flush()
        await dispatcher.close()
        await app[STATE].identity.close()
        await store.close()
        await asyncio.to_thread(capture.close)

    app.cleanup_ctx.append(lifecycle)
    app.router.add_route("*", "/{tail:.*}", _routed)
    return app
