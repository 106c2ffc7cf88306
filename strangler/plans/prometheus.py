"""The proxy's counts from a Prometheus server that scrapes every replica: how Flagger and
Argo Rollouts judge a step, and what a team running several replicas already has.

Prometheus scrapes each replica's admin ``/metrics`` as one job (``figures.job`` in the plan,
``strangler-proxy`` by default). The plan asks its HTTP API for the job's targets
(``/api/v1/targets``: each one it is configured or has discovered to scrape, and whether its
last scrape worked), then (``/api/v1/query``) for the series
:func:`strangler.plans.sources.count_sample` reads from ``/metrics``, summed by the same
labels and by ``instance`` (one replica each), all at one evaluation time. Counts from a
subset of the fleet are none at all: a target of the job that is down or not scraped yet, or
fewer targets up than the control store has members, raises :class:`PrometheusUnanswered`
saying "2 of 3 replicas answered", and the gate is inconclusive. The targets, not the ``up``
series, because a target never scraped has no ``up`` yet. Its figures are as old as its
last scrape (the job's ``scrape_interval``).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from strangler.plans.schema import Plan
from strangler.plans.snapshot import RouteCounts
from strangler.plans.sources import count_sample

__all__ = [
    "PROMETHEUS_URL_VARIABLE",
    "PrometheusSource",
    "PrometheusUnanswered",
    "prometheus_counts",
    "prometheus_source",
]

PROMETHEUS_URL_VARIABLE = "STRANGLER_PROMETHEUS_URL"
# An instant query over a few thousand series answers in milliseconds; 2 s to connect and
# 10 s to answer leave room for a busy server without hanging `plan status`.
QUERY_TIMEOUT_SECONDS = (2.0, 10.0)
# The proxy's series a plan reads, each summed by the labels count_sample reads.
_SERIES = (
    ("strangler_proxy_requests_total", ("route", "upstream", "status")),
    ("strangler_proxy_request_duration_seconds_bucket", ("route", "upstream", "le")),
    ("strangler_proxy_fallbacks_total", ("route",)),
    ("strangler_proxy_shadow_total", ("route", "outcome")),
)


class PrometheusUnanswered(Exception):
    """No counts from Prometheus: it did not answer, or not for the whole fleet."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class PrometheusSource:
    url: str
    job: str


def prometheus_source(plan: Plan, env: Mapping[str, str] | None = None) -> PrometheusSource | None:
    """The plan's ``figures.prometheus``, else ``$STRANGLER_PROMETHEUS_URL``; ``None``: none."""
    configured = (os.environ if env is None else env).get(PROMETHEUS_URL_VARIABLE, "").strip()
    url = plan.figures.prometheus or configured
    return PrometheusSource(url.rstrip("/"), plan.figures.job) if url else None


def prometheus_counts(
    plan: Plan,
    source: PrometheusSource,
    session: requests.Session,
    *,
    members: int | None,
) -> RouteCounts:
    """The plan's routes' counts summed over every replica Prometheus scrapes, each replica's
    own in ``sources`` (by ``instance``); ``members``: how many replicas the control store
    lists, when one is configured. Raises :class:`PrometheusUnanswered`."""
    at = time.time()
    targets = _targets(session, source)
    if not targets:
        raise PrometheusUnanswered(
            f"Prometheus at {source.url} has no target of job {source.job!r}: does it scrape "
            "the proxies' admin /metrics under that job name (the plan's figures.job)?"
        )
    up = sorted(instance for instance, (health, _) in targets.items() if health == "up")
    expected = max(len(targets), members or 0)
    if len(up) < expected:
        why = [
            f"{instance} not scraped yet"
            if health == "unknown"
            else f"{instance} {health}: {error or 'no reason given'}"
            for instance, (health, error) in sorted(targets.items())
            if health != "up"
        ]
        if members is not None and len(targets) < members:
            why.append(f"the control store lists {members} proxy replicas")
        raise PrometheusUnanswered(
            f"{len(up)} of {expected} replicas answered (Prometheus at {source.url}, job "
            f"{source.job!r}: {'; '.join(why)}); figures from part of the fleet are not judged"
        )
    job = _string(source.job)
    routes = "|".join(re.escape(route) for route in plan.routes)
    selector = f"job={job},route=~{_string(routes)}"
    counts = RouteCounts(sources={instance: RouteCounts() for instance in up})
    wanted = set(plan.routes)
    for name, labels in _SERIES:
        query = f"sum by (instance, {', '.join(labels)}) ({name}{{{selector}}})"
        for series, value in _query(session, source, query, at):
            replica = counts.sources.get(series.get("instance", "?"))
            if replica is not None:  # else a target gone since (its series not yet stale)
                count_sample(replica, wanted, name, series, value)
    for replica in counts.sources.values():
        counts.add(replica)
    return counts


def _targets(session: requests.Session, source: PrometheusSource) -> dict[str, tuple[str, str]]:
    """The job's active targets: ``{instance: (health, last error)}``, health ``up``,
    ``down`` or ``unknown`` (not scraped yet)."""
    body = _get(session, source, "/api/v1/targets", {"state": "active"})
    try:
        active = body["data"]["activeTargets"]
        return {
            str(target["labels"].get("instance", target.get("scrapeUrl", "?"))): (
                str(target.get("health", "unknown")),
                str(target.get("lastError", "")),
            )
            for target in active
            if target["labels"].get("job") == source.job
        }
    except (KeyError, TypeError, AttributeError) as exc:
        raise PrometheusUnanswered(
            f"Prometheus at {source.url}: its targets answer is malformed: {exc!r}"
        ) from exc


def _string(value: str) -> str:
    """``value`` as a PromQL string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _get(
    session: requests.Session, source: PrometheusSource, path: str, params: dict[str, str]
) -> dict[str, Any]:
    """The API's answer to ``GET path``, a ``success``; else :class:`PrometheusUnanswered`."""
    where = f"Prometheus at {source.url}"
    try:
        response = session.get(f"{source.url}{path}", params=params, timeout=QUERY_TIMEOUT_SECONDS)
        body = response.json()
    except requests.RequestException as exc:
        raise PrometheusUnanswered(f"{where}: {exc}") from exc
    except ValueError as exc:
        raise PrometheusUnanswered(
            f"{where} answered {response.status_code} without JSON: is it Prometheus?"
        ) from exc
    if not isinstance(body, dict) or body.get("status") != "success":
        error = body.get("error") if isinstance(body, dict) else None
        asked = params.get("query", path)
        raise PrometheusUnanswered(f"{where} refused {asked!r}: {error or response.status_code}")
    return body


def _query(
    session: requests.Session, source: PrometheusSource, query: str, at: float
) -> list[tuple[dict[str, str], float]]:
    """An instant query's vector: each series' labels and value."""
    where = f"Prometheus at {source.url}"
    body = _get(session, source, "/api/v1/query", {"query": query, "time": f"{at:.3f}"})
    data = body.get("data")
    if not isinstance(data, dict) or data.get("resultType") != "vector":
        raise PrometheusUnanswered(f"{where} answered {query!r} with no vector")
    out = []
    try:
        for series in data["result"]:
            out.append((dict(series["metric"]), float(series["value"][1])))
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise PrometheusUnanswered(f"{where}: a malformed series in its answer: {exc}") from exc
    return out
