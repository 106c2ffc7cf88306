"""The admin API's ``GET /upstreams``: every upstream of this worker, its endpoints and
their state (what the balancer picks from), its breaker and its DNS discovery."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from strangler.proxy.admin_http import proxy_state
from strangler.proxy.endpoints import Endpoint, EndpointSet, HealthStatus
from strangler.proxy.upstreams import Upstream

__all__ = ["upstreams_view"]


async def upstreams_view(request: web.Request) -> web.Response:
    state = proxy_state(request)
    return web.json_response(
        {
            "upstreams": [
                _upstream(upstream, state.health.status.get(upstream.name))
                for upstream in state.store.pool
            ]
        }
    )


def _upstream(upstream: Upstream, health: HealthStatus | None) -> dict[str, Any]:
    endpoints = upstream.endpoints
    view: dict[str, Any] = {
        "name": upstream.name,
        "source": upstream.config.source,
        "balance": upstream.config.balance,
        "breaker": upstream.breaker.state,
        "healthy": health.healthy if health is not None else None,
        # Every endpoint out: requests go to all of them (strangler.proxy.endpoints).
        "panic": endpoints.panicking,
        "endpoints": [_endpoint(endpoints, endpoint) for endpoint in endpoints.all],
        "draining": [{"url": e.base_url, "outstanding": e.outstanding} for e in upstream.draining],
    }
    discovery = upstream.discovery
    if discovery is not None:
        view["discovery"] = {
            "dns": discovery.config.dns,
            "type": discovery.config.type,
            "nameserver": discovery.config.nameserver,
            "resolved_at": _iso(discovery.resolved_at),
            "next_at": _iso(discovery.next_at),
            "error": discovery.last_error,
        }
    return view


def _endpoint(endpoints: EndpointSet, endpoint: Endpoint) -> dict[str, Any]:
    return {
        "url": endpoint.base_url,
        "state": endpoints.state(endpoint),
        "outstanding": endpoint.outstanding,
        "consecutive_failures": endpoint.failures,
        "ejections": endpoint.ejections,
        "ejected_for_seconds": round(endpoints.ejected_for(endpoint), 3),
        "health_error": endpoint.health.last_error,
    }


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat()
