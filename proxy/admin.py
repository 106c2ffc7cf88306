"""The admin API on its own port (default 8001): health, metrics, the route table, changes.

Reads are open, for probes, Prometheus scrapers and ``strangler routes list``; they show
names, patterns, owners and counters, no secrets:
    GET /healthz, GET /metrics, GET /routes, GET /routes/{name}
Changes need ``Authorization: Bearer <PROXY_ADMIN_TOKEN>``; with no token configured every
change is refused:
    PATCH /routes/{name}  {"owner"?, "mode"?, "canary_percent"?, "fallback"?,
                           "shadow_sample_rate"?, "force"?}
    POST  /reload
    POST  /routes/{name}/hold     {"seconds": N}  (0 < N <= 120) hold the route's writes
    POST  /routes/{name}/release  {}              let them through
A change is made in the route table file (validated by the same schema, written atomically,
comments kept) and loaded at once; other workers load it by their file watch.

Errors are JSON ``{"code", "message"}``:
    400 bad_request, bad_change    the body is not a JSON object of known fields and types
    400 bad_hold                   a hold's "seconds" missing or out of range (names the field)
    400 invalid_change             the changed table fails validation (names entry and field)
    400 invalid_table              POST /reload: the file fails; the running table stays
    401 missing_token, invalid_token
    403 admin_token_unset          set PROXY_ADMIN_TOKEN to allow changes
    404 route_not_found, not_found
    405 method_not_allowed
    409 canary_ramp_down           a canary lowered without "force": true
    500 table_unreadable           the file on disk is not a table that can be edited
    500 table_unwritable           no new file can be written beside it (read-only mount)
    503 table_busy                 another writer holds the table's lock
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import os
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from ruamel.yaml import YAML

from proxy.check import describe_route
from proxy.config import parse_table_config
from proxy.errors import ConfigError
from proxy.holds import MAX_HOLD_SECONDS, write_hold
from proxy.metrics import TALLY
from proxy.routing import CompiledRoute, RouteTable
from proxy.settings import ProxySettings
from proxy.shadow_stats import OUTCOMES
from proxy.state import STATE, ProxyState
from proxy.table_store import WATCH_INTERVAL_SECONDS
from proxy.write_guard import WritesNotCarried, check_writes_carried
from strangler import routes_file

__all__ = ["build_admin_app"]

logger = logging.getLogger(__name__)

PUBLIC_APP = web.AppKey("public_app", web.Application)
SETTINGS = web.AppKey("settings", ProxySettings)

_STATUS_OF_FILE_ERROR: dict[type[routes_file.RoutesFileError], int] = {
    routes_file.RouteNotFound: 404,
    routes_file.BadChange: 400,
    routes_file.RampRefused: 409,
    routes_file.TableBusy: 503,
    routes_file.RoutesFileError: 500,
}
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}
# Sample names as metrics.py defines them; the per-route counters are read back from there,
# so with several workers (PROMETHEUS_MULTIPROC_DIR) they are the sum of every worker.
_REQUESTS = "strangler_proxy_requests_total"
_FALLBACKS = "strangler_proxy_fallbacks_total"
_SHADOW = "strangler_proxy_shadow_total"
_STATUS_CLASSES = ("2xx", "3xx", "4xx", "5xx")
_UNROUTED = "(default)"
# Other workers see a hold at their next poll of the holds file: one watch interval (0.5 s;
# measured: seen 0.34 s after the write on average, 0.49 s at most over 10 trials) plus a
# margin for a busy loop. A hold or release answers only after this, so it is in effect.
HOLD_PROPAGATION_SECONDS = WATCH_INTERVAL_SECONDS + 0.25


class AdminError(Exception):
    """An admin request refused: the HTTP status, a stable code, and what to fix."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@web.middleware
async def _errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every refusal of the admin API becomes ``{"code", "message"}`` here, and only here."""
    try:
        return await handler(request)
    except AdminError as exc:
        status, code, message = exc.status, exc.code, exc.message
    except routes_file.RoutesFileError as exc:
        status, code, message = _STATUS_OF_FILE_ERROR.get(type(exc), 500), exc.code, exc.message
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        status, code, message = exc.status, _HTTP_CODES.get(exc.status, "http_error"), exc.reason
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return web.json_response({"code": code, "message": message}, status=status, headers=headers)


def _authorise(request: web.Request) -> None:
    expected = request.app[SETTINGS].admin_token
    if not expected:
        raise AdminError(
            403,
            "admin_token_unset",
            "Changes are disabled: set PROXY_ADMIN_TOKEN for the proxy (and restart it), then "
            "send it as 'Authorization: Bearer <token>'.",
        )
    scheme, _, supplied = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not supplied.strip():
        raise AdminError(
            401, "missing_token", "Send 'Authorization: Bearer <PROXY_ADMIN_TOKEN>' to change."
        )
    # Constant time: how long a refusal takes tells nothing about how much of a guess was right.
    if not hmac.compare_digest(supplied.strip().encode(), expected.encode()):
        logger.warning("admin change refused: wrong token from %s", request.remote)
        raise AdminError(401, "invalid_token", "The bearer token is not PROXY_ADMIN_TOKEN.")


def _state(request: web.Request) -> ProxyState:
    return request.app[PUBLIC_APP][STATE]


def _registry() -> CollectorRegistry:
    TALLY.flush()  # this worker's figures up to this request; others' at most 1 s old
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


@dataclass
class RouteCounters:
    """One route's counts since the proxy started (every worker's, with several)."""

    requests: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_STATUS_CLASSES, 0))
    fallbacks: int = 0
    shadow: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))

    def as_json(self) -> dict[str, object]:
        return {
            "requests": {"total": sum(self.requests.values()), **self.requests},
            "fallbacks": self.fallbacks,
            "shadow": self.shadow,
        }


def _route_counters() -> defaultdict[str, RouteCounters]:
    counters: defaultdict[str, RouteCounters] = defaultdict(RouteCounters)
    for metric in _registry().collect():
        for sample in metric.samples:
            if sample.name not in (_REQUESTS, _FALLBACKS, _SHADOW):
                continue
            route, value = counters[sample.labels["route"]], int(sample.value)
            if sample.name == _REQUESTS:
                status_class = sample.labels["status"][:1] + "xx"
                route.requests[status_class] = route.requests.get(status_class, 0) + value
            elif sample.name == _FALLBACKS:
                route.fallbacks += value
            else:
                route.shadow[sample.labels["outcome"]] = value
    return counters


def _route_view(
    route: CompiledRoute,
    counters: defaultdict[str, RouteCounters],
    holds: Mapping[str, float] | None = None,
    *,
    legacy: str,
) -> object:
    until = (holds or {}).get(route.name, 0.0)
    return {
        **describe_route(route, legacy=legacy),
        "hold_until": until if until > time.time() else 0,
        "counters": counters[route.name].as_json(),
    }


def _find_route(table: RouteTable, name: str) -> CompiledRoute:
    route = table.route(name)
    if route is None:
        raise AdminError(404, "route_not_found", f"No route named {name!r}.")
    return route


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _metrics(request: web.Request) -> web.Response:
    return web.Response(
        body=generate_latest(_registry()), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )


async def _routes(request: web.Request) -> web.Response:
    store = _state(request).store
    table, counters = store.current, _route_counters()
    return web.json_response(
        {
            "file": str(store.path),
            "legacy": table.legacy,
            "routes": [
                _route_view(route, counters, store.holds, legacy=table.legacy)
                for route in table.routes
            ],
            "unrouted": counters[_UNROUTED].as_json(),
        }
    )


async def _route(request: web.Request) -> web.Response:
    store = _state(request).store
    route = _find_route(store.current, request.match_info["name"])
    return web.json_response(
        _route_view(route, _route_counters(), store.holds, legacy=store.current.legacy)
    )


async def _change(request: web.Request) -> tuple[routes_file.RouteChange, bool]:
    try:
        body = await request.json()
    except ValueError:  # not JSON, or not UTF-8
        body = None
    if not isinstance(body, dict):
        raise AdminError(400, "bad_request", "Send a JSON object of the fields to change.")
    force = body.pop("force", False)
    if not isinstance(force, bool):
        raise AdminError(400, "bad_change", f"field 'force': expected true or false, got {force!r}")
    change = routes_file.RouteChange.from_mapping(body)
    if not change.items():
        raise AdminError(400, "bad_change", "Nothing to change: give at least one field.")
    return change, force


def _edit_file(
    path: Path, name: str, change: routes_file.RouteChange, force: bool, sync_secret: str
) -> bool:
    """Edit, validate and replace the file under the writers' lock; ``False``: a no-op.
    Blocking (lock, fsync): run in a thread."""
    with routes_file.locked(path):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise routes_file.RoutesFileError(f"{path}: cannot read: {exc.strerror}") from exc
        edited = routes_file.edit_route(text, name, change, force=force)
        if edited == text:
            return False
        try:
            config = parse_table_config(YAML(typ="safe").load(edited), source=str(path))
            RouteTable(config, source=str(path))
        except ConfigError as exc:
            raise AdminError(400, "invalid_change", exc.message) from exc
        try:
            check_writes_carried(config, source=str(path), secret=sync_secret)
        except WritesNotCarried as exc:
            raise AdminError(409, exc.code, exc.message) from exc
        try:
            routes_file.write_atomically(path, edited)
        except OSError as exc:
            raise AdminError(
                500, "table_unwritable", f"{path}: cannot write beside it: {exc.strerror}"
            ) from exc
        return True


async def _patch_route(request: web.Request) -> web.Response:
    _authorise(request)
    name = request.match_info["name"]
    change, force = await _change(request)
    store = _state(request).store
    changed = await asyncio.to_thread(
        _edit_file, store.path, name, change, force, store.sync_secret
    )
    if changed:
        result = await store.reload()
        if result.error is not None:  # the file changed again under us, into something invalid
            raise AdminError(409, "invalid_table", result.error)
        logger.info("route %s changed through the admin API: %s", name, dict(change.items()))
    view = _route_view(
        _find_route(store.current, name), _route_counters(), legacy=store.current.legacy
    )
    return web.json_response({"changed": changed, "route": view})


async def _json_object(request: web.Request, allowed: frozenset[str]) -> dict[str, object]:
    try:
        body = await request.json() if request.can_read_body else {}
    except ValueError:  # not JSON, or not UTF-8
        body = None
    if not isinstance(body, dict):
        raise AdminError(400, "bad_request", "Send a JSON object.")
    unknown = sorted(set(body) - allowed)
    if unknown:
        known = ", ".join(sorted(allowed)) or "no fields"
        raise AdminError(400, "bad_hold", f"unknown field(s) {', '.join(unknown)}; give {known}")
    return body


async def _set_hold(request: web.Request, name: str, until: float) -> web.Response:
    store = _state(request).store
    _find_route(store.current, name)
    await asyncio.to_thread(write_hold, store.path, name, until)
    store.reload_holds()
    # Every other worker polls the holds file: answer once they all have, so the caller
    # knows the hold (or the release) is in effect everywhere.
    if request.app[SETTINGS].workers > 1:
        await asyncio.sleep(HOLD_PROPAGATION_SECONDS)
    held_until = store.holds.get(name, 0.0)
    logger.info("route %s writes %s", name, f"held until {held_until}" if until else "released")
    return web.json_response({"route": name, "held": held_until > 0, "hold_until": held_until})


async def _hold(request: web.Request) -> web.Response:
    _authorise(request)
    body = await _json_object(request, frozenset({"seconds"}))
    seconds = body.get("seconds")
    if (
        not isinstance(seconds, int | float)
        or isinstance(seconds, bool)
        or not math.isfinite(seconds)
        or not 0 < seconds <= MAX_HOLD_SECONDS
    ):
        raise AdminError(
            400,
            "bad_hold",
            f"field 'seconds': give a number of seconds above 0 and at most "
            f"{MAX_HOLD_SECONDS:g} (the hold's bound), got {seconds!r}",
        )
    return await _set_hold(request, request.match_info["name"], time.time() + seconds)


async def _release(request: web.Request) -> web.Response:
    _authorise(request)
    await _json_object(request, frozenset())
    return await _set_hold(request, request.match_info["name"], 0.0)


async def _reload(request: web.Request) -> web.Response:
    _authorise(request)
    store = _state(request).store
    result = await store.reload()
    if result.error is not None:
        raise AdminError(400, "invalid_table", f"{result.error} (the running table keeps serving)")
    return web.json_response({"changed": result.changed, "routes": len(store.current.routes)})


def build_admin_app(settings: ProxySettings, public: web.Application) -> web.Application:
    # A change is a few fields: anything near 64 KiB is refused before it is parsed.
    app = web.Application(middlewares=[_errors], client_max_size=64 * 1024)
    app[PUBLIC_APP] = public
    app[SETTINGS] = settings
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/routes", _routes)
    app.router.add_get("/routes/{name}", _route)
    app.router.add_patch("/routes/{name}", _patch_route)
    app.router.add_post("/reload", _reload)
    app.router.add_post("/routes/{name}/hold", _hold)
    app.router.add_post("/routes/{name}/release", _release)
    return app
