"""The proxy's side of ``strangler status``: its routes, and its counters per route and side.

The routes (mode, owner, write owner, canary, fallback, hold) come from the admin API's
``GET /routes``; requests and errors per route and upstream, and each upstream's breaker,
from ``/metrics``, read with the plans' own reading of the proxy's series
(:func:`strangler.plans.sources.count_sample`). With a control store, every replica's
``/metrics`` is read and summed, as the plans' figures are; counts from part of the fleet
would misstate the shares, so a replica that does not answer makes them unknown.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

from strangler.plans.fleet_counts import MAX_PARALLEL_READS
from strangler.plans.snapshot import RouteCounts
from strangler.plans.sources import (
    CONNECT_TIMEOUT_SECONDS,
    READ_TIMEOUT_SECONDS,
    count_sample,
    metric_samples,
)
from strangler.proxy_admin import admin_headers

__all__ = ["BREAKER_STATES", "Traffic", "read_routes", "read_traffic"]

# strangler_proxy_breaker_state's values (strangler.proxy.metrics).
BREAKER_STATES = {0: "closed", 1: "half-open", 2: "open"}
_BREAKER = "strangler_proxy_breaker_state"


@dataclass
class Traffic:
    """Counts since each replica started, per route (``(default)``: no route matched)."""

    routes: dict[str, RouteCounts] = field(default_factory=dict)
    breakers: dict[str, str] = field(default_factory=dict)
    replicas: list[str] = field(default_factory=list)


def _get(session: requests.Session, url: str) -> requests.Response:
    response = session.get(
        url, headers=admin_headers(), timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS)
    )
    response.raise_for_status()
    return response


def read_routes(admin_url: str, session: requests.Session) -> dict[str, Any]:
    """The admin API's route listing; ``requests.RequestException`` or ``ValueError``."""
    listing = _get(session, f"{admin_url.rstrip('/')}/routes").json()
    if not isinstance(listing, dict) or not isinstance(listing.get("routes"), list):
        raise ValueError(f"{admin_url}/routes answered no route listing")
    return listing


def read_traffic(urls: list[str], session: requests.Session) -> Traffic:
    """Every replica's counts summed; ``ValueError`` naming each replica that did not answer."""
    with ThreadPoolExecutor(max_workers=max(1, min(len(urls), MAX_PARALLEL_READS))) as pool:
        answers = list(pool.map(lambda url: _metrics(session, url), urls))
    failed = [f"{url}: {why}" for url, (_, why) in zip(urls, answers, strict=True) if why]
    if failed:
        prefix = "" if len(urls) == 1 else f"{len(urls) - len(failed)} of {len(urls)} replicas "
        raise ValueError(f"proxy metrics: {prefix}did not answer ({'; '.join(failed)})")
    traffic = Traffic(replicas=list(urls))
    breaker_levels: dict[str, int] = {}
    for text, _ in answers:
        for name, labels, value in metric_samples(text):
            route = labels.get("route")
            if route is not None:
                counts = traffic.routes.setdefault(route, RouteCounts())
                count_sample(counts, {route}, name, labels, value)
            elif name == _BREAKER:  # the worst replica's breaker
                upstream = labels["upstream"]
                breaker_levels[upstream] = max(breaker_levels.get(upstream, 0), int(value))
    traffic.breakers = {u: BREAKER_STATES.get(v, str(v)) for u, v in breaker_levels.items()}
    return traffic


def _metrics(session: requests.Session, url: str) -> tuple[str, str]:
    """``(one replica's /metrics text, "")``, or ``("", why it could not be read)``."""
    try:
        return _get(session, f"{url.rstrip('/')}/metrics").text, ""
    except requests.RequestException as exc:
        return "", str(exc)
