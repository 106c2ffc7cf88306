"""The proxy's own probes on its public port: ``/healthz`` (the process answers) and
``/readyz`` (it can serve: the monolith's circuit is not open and it passes its health
check), for a load balancer or an orchestrator.

A fleet's replica that lost the shared control store stays ready: ``"status": "degraded"``
with a ``store`` section naming the error, answered 200. It serves its last table and holds,
which are fine; failing readiness instead would take every replica out of its load balancer
at once whenever the store blinks, the whole site down for a control plane's hiccup. The
probe reads only what is in memory: it never waits on the store."""

from __future__ import annotations

from aiohttp import web

from strangler.proxy.state import ProxyState

__all__ = ["healthz", "readyz"]


async def healthz() -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(state: ProxyState) -> web.Response:
    table = state.store.current
    legacy = state.store.pool[table.legacy]
    ready = legacy.breaker.state != "open" and not state.health.is_unhealthy(legacy.name)
    upstreams = {
        name: {"healthy": status.healthy, "error": status.last_error}
        for name, status in state.health.status.items()
    }
    body: dict[str, object] = {
        "status": "ok" if ready else "unavailable",
        "routes": len(table.routes),
        "upstreams": upstreams,
    }
    if state.fleet is not None:
        store = state.fleet.status
        body["store"] = store.as_json()
        if ready and not store.up:
            body["status"] = "degraded"
    return web.json_response(body, status=200 if ready else 503)
