"""The admin API on its own port (default 8001): health, metrics, the route table, changes.

Reads are open, for probes, Prometheus scrapers and ``strangler routes list``; they show
names, patterns, owners and counters, no secrets:
    GET /healthz, GET /metrics, GET /routes, GET /routes/{name}
    GET /upstreams  every upstream's endpoints and their state, as this worker sees them
    GET /fleet      a fleet's members (from the control store), their versions, who lags
``GET /audit?limit=N`` (the trail: who changed what, when, before and after; from the file
beside the table or the control store) needs the token, as its entries name people.
Changes need ``Authorization: Bearer <PROXY_ADMIN_TOKEN>``; with no token configured every
change is refused:
    PATCH /routes/{name}  {"owner"?, "mode"?, "canary_percent"?, "fallback"?,
                           "shadow_sample_rate"?, "force"?}
    POST  /reload
    POST  /routes/{name}/hold     {"seconds": N}  (0 < N <= 120) hold the route's writes
    POST  /routes/{name}/release  {}              let them through
    POST  /audit  {"action": "plan.next"|"plan.rollback", "plan", "before", "after"}  a
                  plan's step in the trail (``admin_audit``)
With the table file (one host), a change is made in the file (validated by the same schema,
written atomically, comments kept) and loaded at once; other workers load it by their file
watch. In a fleet (``STRANGLER_STORE_URL``) it is made in the shared control store with a
compare-and-set on the table's version, audited (``X-Strangler-Actor`` names who, else
``admin-api``), installed here at once and pushed to every replica (``admin_fleet``): PATCH
answers with the ``table_version`` written (``?wait=fleet``: once every replica serves it,
or says who lags), a hold or release once every replica acknowledged it, and POST /reload
reads the store again.

Errors are JSON ``{"code", "message"}``:
    400 bad_request, bad_change    the body is not a JSON object of known fields and types
    400 bad_hold                   a hold's "seconds" missing or out of range (names the field)
    400 bad_limit, bad_audit       GET /audit's limit, POST /audit's fields
    400 invalid_change             the changed table fails validation (names entry and field)
    400 invalid_table              POST /reload: the file (or the store's table) fails; the
                                   running table stays
    401 missing_token, invalid_token
    403 admin_token_unset          set PROXY_ADMIN_TOKEN to allow changes
    404 route_not_found, not_found
    404 not_a_fleet                GET /fleet without STRANGLER_STORE_URL
    405 method_not_allowed
    409 canary_ramp_down           a canary lowered without "force": true
    409 table_version_conflict     fleet: other writers kept changing the table; read, retry
    500 table_unreadable           the file on disk is not a table that can be edited
    500 table_unwritable           no new file can be written beside it (read-only mount)
    500 audit_unreadable, audit_unwritable  the trail beside the table
    503 table_busy                 another writer holds the table's lock
    503 store_unavailable          fleet: the control store cannot be reached (nothing changed,
                                   unless the message says what was written)
    503 fleet_not_acknowledged     fleet: a hold or release is written but the replicas in
                                   "missing" did not acknowledge it in 5 s
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from strangler.proxy.admin_audit import add_plan_entry, read_audit
from strangler.proxy.admin_changes import hold, patch_route, release
from strangler.proxy.admin_counters import UNROUTED, registry, route_counters, route_view
from strangler.proxy.admin_fleet import fleet_view, reload_from_store
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
    state = proxy_state(request)
    store, fleet = state.store, state.fleet
    table, counters = store.current, route_counters()
    return web.json_response(
        {
            "file": str(store.path),
            # Where the table served comes from, and its version there (None: the file's).
            "store": fleet.where if fleet else str(store.path),
            "table_version": store.table_version if fleet else None,
            "replica": state.settings.member,
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
    state = proxy_state(request)
    if state.fleet is not None:
        return await reload_from_store(state.fleet)
    store = state.store
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
    app.router.add_get("/fleet", fleet_view)
    app.router.add_get("/audit", read_audit)
    app.router.add_post("/audit", add_plan_entry)
    return app
