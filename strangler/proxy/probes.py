"""The proxy's own probes on its public port: ``/healthz`` (the process answers) and
``/readyz`` (it can serve: the monolith's circuit is not open and it passes its health
check), for a load balancer or an orchestrator."""

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
    return web.json_response(
        {
            "status": "ok" if ready else "unavailable",
            "routes": len(table.routes),
            "upstreams": upstreams,
        },
        status=200 if ready else 503,
    )
