"""The proxy's request path: match, decide, forward, record. This module orchestrates; the
policy lives in the modules it calls: the path (``normalise``), the route (``routing``), who
answers (``deciding``, ``modes``, ``cohort``), the body (``body_plan``), the headers
(``outgoing_headers``), the exchange and its fallback (``forwarder``), the shadow copy
(``shadow_job``), errors as answers (``error_response``)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable

from aiohttp import web

from strangler.proxy import metrics
from strangler.proxy.body_plan import plan_body
from strangler.proxy.capture import RequestCapture
from strangler.proxy.deciding import Decided, decide_request, needs_identity
from strangler.proxy.error_response import error_response
from strangler.proxy.errors import NoRoute, ProxyError, RequestRejected, RequestTooLarge, WritesHeld
from strangler.proxy.fleet_follow import follow_store
from strangler.proxy.fleet_member import FleetMember
from strangler.proxy.forwarder import Forwarder
from strangler.proxy.headers import TrustedProxies, decoded
from strangler.proxy.health import HealthChecker
from strangler.proxy.held_writes import (
    UNREAD,
    MovedWhileReading,
    Unread,
    is_held,
    moved_while_reading,
    wait_out_hold,
    write_answered,
    write_in_flight,
)
from strangler.proxy.identity import IdentityResolver, NoIdentity
from strangler.proxy.modes import Decision
from strangler.proxy.normalise import canonical_paths
from strangler.proxy.outgoing_headers import OutgoingHeaders
from strangler.proxy.probes import healthz, readyz
from strangler.proxy.read_your_writes import WroteCookies
from strangler.proxy.relay import CAPTURED, Answer, relay, relay_now
from strangler.proxy.request_body import read_body
from strangler.proxy.request_log import record_request
from strangler.proxy.settings import ProxySettings
from strangler.proxy.shadow import ShadowDispatcher
from strangler.proxy.shadow_job import WANT_VERSIONS, shadow_job
from strangler.proxy.state import STATE, ProxyState
from strangler.proxy.table_store import TableStore, watch_stopped
from strangler.proxy.upstream_client import Body
from strangler.proxy.upstream_response import UpstreamResponse
from strangler.proxy.upstreams import Upstream, UpstreamPool
from strangler.proxy.websocket import is_websocket_upgrade, relay_websocket
from strangler.request_ids import REQUEST_ID_HEADER, sanitise_request_id

__all__ = ["build_app", "dispatch", "handle"]

_ids = random.Random()  # noqa: S311 - request ids name requests; they guard nothing


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
        return error_response(exc, request_id=request_id)
    target = canonical + ("?" + query if query else "")

    body: Body | Unread = UNREAD
    while True:
        # This request's table and upstreams to the end, whatever reloads happen meanwhile;
        # a write is decided again when a cutover moved its route before it could go.
        table, upstreams = state.store.current, state.store.pool.current
        if table.is_internal(matched_path):
            return error_response(NoRoute("Not found."), request_id=request_id)
        route = table.match(request.method, matched_path)
        if route is not None and is_held(state.store, route.name, request.method):
            try:
                await wait_out_hold(state.store, route.name)
            except WritesHeld as exc:
                return error_response(exc, request_id=request_id)
            continue  # released: the cutover may have moved the route
        forwarder = Forwarder(request, request_id, table, upstreams, state.health)
        user = await state.identity.resolve(request.headers) if needs_identity(route) else None
        decided = decide_request(
            request, route, user=user, legacy=table.legacy, identity=state.identity,
            wrote=state.wrote,
        )  # fmt: skip
        try:
            response = await _serve(request, state, forwarder, decided, target, body)
        except MovedWhileReading as moved:  # held or moved while the body arrived
            body = moved.body
            continue
        except ProxyError as exc:
            response = error_response(exc, request_id=request_id)
        break
    record_request(
        request, decided.decision, forwarder, response, arrived=arrived, request_id=request_id
    )
    return response


async def _serve(
    request: web.BaseRequest,
    state: ProxyState,
    forwarder: Forwarder,
    decided: Decided,
    target: str,
    read: Body | Unread,
) -> web.StreamResponse:
    decision, table = decided.decision, forwarder.table
    headers = OutgoingHeaders.of(
        request,
        trusted=state.trusted,
        request_id=forwarder.request_id,
        identity=decided.identity.header_value if decided.identity else None,
        service_cookies=table.config.service_cookie_names,
    )
    primary_headers = headers.to(legacy=decision.primary == table.legacy)
    if decision.shadow:  # the monolith says which data versions it answered with
        primary_headers = [*primary_headers, WANT_VERSIONS]
    if is_websocket_upgrade(request):
        primary = forwarder.upstreams[decision.primary]
        return await relay_websocket(request, primary, target, decoded(primary_headers))

    # Read whole before an upstream is asked, so it can go again to a fallback or a shadow.
    plan = plan_body(decision.route, buffer_bytes=state.settings.body_buffer_bytes)
    body: Body = None if isinstance(read, Unread) else read
    if isinstance(read, Unread) and request.can_read_body:
        body = await read_body(request, state.settings, plan)
    # The body and the identity were awaited since the hold was checked: a cutover may
    # have held or moved the route. From here to the upstream there is no await.
    if moved_while_reading(request.method, state.store, table, decision.route):
        raise MovedWhileReading(body)
    shadow_to = decision.shadow
    if shadow_to and not plan.shadowable(body):
        state.shadow.skip(decision.route_name)
        shadow_to = None
    sent: Body = body
    capture = state.capture
    if capture.enabled and decision.route is not None and capture.wants(decision.route_name):
        # Recorded as the client sent it; a streamed body is copied as it passes.
        sent = capture.record(
            decision.route_name, request.method, target, request.raw_headers, body
        )
    sending = write_in_flight(request.method, decision.route)
    try:
        answering, upstream_response = await forwarder.forward(
            decision, target, headers, primary_headers, sent, replayable=plan.replayable(body)
        )
    except BaseException as exc:
        if sending is not None:
            linger = forwarder.upstreams[decision.primary].config.timeouts.total
            write_answered(sending, exc, linger=linger)
        raise
    if sending is not None:
        write_answered(sending, None, linger=0)
    response = await _relay(
        request, state, forwarder, decided, answering, upstream_response, shadow_to is not None
    )
    if shadow_to is not None:
        # (Looked up only here: a response is a Mapping whose get() raises and catches a
        # KeyError when the key is missing, a cost every request paid.)
        captured, route = response.get(CAPTURED), decision.route
        owner, legacy = forwarder.upstreams[shadow_to], forwarder.upstreams[table.legacy]
        # The endpoints the copies go to (none yet: DNS discovery has not answered).
        to_owner = owner.only or owner.endpoints.pick()
        to_legacy = legacy.only or legacy.endpoints.pick()
        if captured is None or route is None or to_owner is None or to_legacy is None:
            state.shadow.skip(decision.route_name)
            return response
        state.shadow.submit(
            shadow_job(
                route=route,
                method=request.method,
                target=target,
                headers=headers,
                body=body if isinstance(body, bytes) else None,
                primary=captured,
                primary_seconds=forwarder.upstream_seconds,
                owner=owner.config,
                legacy=legacy.config,
                rules=state.shadow.rules(table.config),
                noise_draw=random.random(),  # noqa: S311 - sampling, not security
                owner_endpoint=to_owner,
                legacy_endpoint=to_legacy,
            )
        )
    return response


async def _relay(
    request: web.BaseRequest,
    state: ProxyState,
    forwarder: Forwarder,
    decided: Decided,
    answering: Upstream,
    upstream_response: UpstreamResponse,
    want_body: bool,
) -> web.StreamResponse:
    """The upstream's answer to the client, with the cookies the decision adds."""
    decision: Decision = decided.decision
    try:
        answer = Answer(
            upstream_response,
            forwarder.response_headers(upstream_response),
            upstream=answering.name,
            new_cookie=decided.new_cookie,
            want_body=want_body,
            wrote_cookie=state.wrote.after_write(
                decision.route.config if decision.route else None,
                method=request.method,
                status=upstream_response.status,
                writer=decision.primary,
                seconds=forwarder.table.config.read_your_writes_seconds,
                now=time.time(),
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
    return response


def dispatch(request: web.BaseRequest, state: ProxyState) -> Awaitable[web.StreamResponse]:
    """The answer to any request on the public port: the proxy's own health views, else
    ``handle``. A plain function returning the coroutine that answers: one coroutine fewer
    a request, and one string test instead of aiohttp's router (profiled: ~8 us)."""
    if request.method == "GET" and request.raw_path.startswith(_OWN_PATHS):
        path = request.raw_path.partition("?")[0]
        if path == "/healthz":
            return healthz()
        if path == "/readyz":
            return readyz(state)
    return handle(request, state)


_OWN_PATHS = ("/healthz", "/readyz")


async def _routed(request: web.Request) -> web.StreamResponse:
    return await dispatch(request, request.app[STATE])


async def _flush_metrics(pool: UpstreamPool) -> None:
    while True:
        await asyncio.sleep(metrics.FLUSH_SECONDS)
        metrics.TALLY.flush()
        pool.report()


def build_app(
    settings: ProxySettings,
    *,
    identity: IdentityResolver | None = None,
    shadow: ShadowDispatcher | None = None,
) -> web.Application:
    """The public application; ``cleanup_ctx`` loads the table and owns every connection
    pool. ``strangler.proxy.server.PublicServer`` serves it through aiohttp's low-level server; its
    one catch-all route serves it the same way under any aiohttp runner (``TestServer``)."""
    app = web.Application(client_max_size=settings.max_body_bytes)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        store = TableStore(settings.routes_path, UpstreamPool(), sync_secret=settings.sync_secret)
        fleet = FleetMember(settings, store) if settings.store_url else None
        if fleet is None:
            await store.load()
        else:
            await fleet.start()
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
                monolith_url=lambda: store.pool[store.current.legacy].base_url,
                session_cookie_name=settings.identity_session_cookie,
                schemes=settings.identity_schemes,
            ),
            shadow=dispatcher,
            health=health,
            capture=capture,
            wrote=WroteCookies(secret=settings.identity_secret),
            fleet=fleet,
        )
        # A fleet follows its store; edits to the file are not applied there (the store is
        # the truth: `strangler routes import FILE` applies one).
        watcher = asyncio.create_task(store.watch() if fleet is None else follow_store(fleet))
        watcher.add_done_callback(watch_stopped)
        checker = asyncio.create_task(health.run())
        flusher = asyncio.create_task(_flush_metrics(store.pool))
        capture_follower = asyncio.create_task(capture.follow(store))
        yield
        capture_follower.cancel()
        watcher.cancel()
        checker.cancel()
        flusher.cancel()
        metrics.TALLY.flush()
        await dispatcher.close()
        await app[STATE].identity.close()
        if fleet is not None:
            await asyncio.gather(watcher, return_exceptions=True)
            await fleet.leave()
        await store.close()
        await asyncio.to_thread(capture.close)

    app.cleanup_ctx.append(lifecycle)
    app.router.add_route("*", "/{tail:.*}", _routed)
    return app
