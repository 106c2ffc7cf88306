"""The admin API on its own port (default 8001): health, metrics, the route table, changes.

Reads are open, for probes, Prometheus scrapers and ``strangler routes list``; they show
names, patterns, owners and counters, no secrets:
    GET /healthz, GET /metrics, GET /routes, GET /routes/{name}
    GET /upstreams  every upstream's endpoints and their state, as this worker sees them
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

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from strangler.proxy.admin_changes import hold, patch_route, release
from strangler.proxy.admin_counters import UNROUTED, registry, route_counters, route_view
from strangler.proxy.admin_http import (
    PUBLIC_APP,
    SETTINGS,
    AdminError,
    authorise,
    errors_middleware,
    find_route,
    proxy_state,
)
from strangler.proxy.admin_upstreams import upstreams_view
from strangler.proxy.settings import ProxySettings

__all__ = ["build_admin_app"]


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _metrics(request: web.Request) -> web.Response:
    return web.Response(
        body=generate_latest(registry()), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )


async def _routes(request: web.Request) -> web.Response:
    store = proxy_state(request).store
    table, counters = store.current, route_counters()
    return web.json_response(
        {
            "file": str(store.path),
            "legacy": table.legacy,
            "routes": [
                route_view(route, counters, store.holds, legacy=table.legacy)
                for route in table.routes
            ],
            "unrouted": counters[UNROUTED].as_json(),
        }
    )


async def _route(request: web.Request) -> web.Response:
    store = proxy_state(request).store
    route = find_route(store.current, request.match_info["name"])
    return web.json_response(
        route_view(route, route_counters(), store.holds, legacy=store.current.legacy)
    )


async def _reload(request: web.Request) -> web.Response:
    authorise(request)
    store = proxy_state(request).store
    result = await store.reload()
    if result.error is not None:
        raise AdminError(400, "invalid_table", f"{result.error} (the running table keeps serving)")
    return web.json_response({"changed": result.changed, "routes": len(store.current.routes)})


def build_admin_app(settings: ProxySettings, public: web.Application) -> web.Application:
    # A change is a few fields: anything near 64 KiB is refused before it is parsed.
    app = web.Application(middlewares=[errors_middleware], client_max_size=64 * 1024)
    app[PUBLIC_APP] = public
    app[SETTINGS] = settings
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/routes", _routes)
    app.router.add_get("/routes/{name}", _route)
    app.router.add_get("/upstreams", upstreams_view)
    app.router.add_patch("/routes/{name}", patch_route)
    app.router.add_post("/reload", _reload)
    app.router.add_post("/routes/{name}/hold", hold)
    app.router.add_post("/routes/{name}/release", release)
    return app
