"""What the proxy records of every request it answered: the metrics tally, and one JSON
access-log line (``proxy.access``; ``PROXY_ACCESS_LOG=0`` turns it off)."""

from __future__ import annotations

import logging
import time

from aiohttp import web

from strangler.proxy import metrics
from strangler.proxy.forwarder import Forwarder
from strangler.proxy.modes import Decision

__all__ = ["record_request"]

access_log = logging.getLogger("proxy.access")


def record_request(
    request: web.BaseRequest,
    decision: Decision,
    forwarder: Forwarder,
    response: web.StreamResponse,
    *,
    arrived: float,
    request_id: str,
) -> None:
    """``arrived``: the ``time.perf_counter()`` when the request reached the proxy."""
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
