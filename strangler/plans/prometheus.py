"""The proxy's counts from a Prometheus server that scrapes every replica: how Flagger and
Argo Rollouts judge a step, and what a team running several replicas already has.

Prometheus scrapes each replica's admin ``/metrics`` as one job (``figures.job`` in the plan,
``strangler-proxy`` by default). The plan asks its HTTP API (``/api/v1/query``) for the
series :func:`strangler.plans.sources.count_sample` reads from ``/metrics``, summed by the
same labels and by ``instance`` (one replica each), all at one evaluation time. Counts from
a subset of the fleet are none at all: a target of the job that is down, or fewer targets up
than the control store has members, raises :class:`PrometheusUnanswered` saying "2 of 3
replicas answered", and the gate is inconclusive. Its figures are as old as its last scrape.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

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
    job = _string(source.job)
    targets = {
        labels.get("instance", "?"): value
        for labels, value in _query(session, source, f"up{{job={job}}}", at)
    }
    if not targets:
        raise PrometheusUnanswered(
            f"Prometheus at {source.url} has no target of job {source.job!r}: does it scrape "
            "the proxies' admin /metrics under that job name (the plan's figures.job)?"
        )
    up = sorted(instance for instance, value in targets.items() if value == 1)
    down = sorted(instance for instance, value in targets.items() if value != 1)
    expected = max(len(targets), members or 0)
    if down or len(up) < expected:
        why = [f"down: {', '.join(down)}"] if down else []
        if members is not None and len(up) < members:
            why.append(f"the control store lists {members} proxy replicas")
        raise PrometheusUnanswered(
            f"{len(up)} of {expected} replicas answered (Prometheus at {source.url}, job "
            f"{source.job!r}: {'; '.join(why)}); figures from part of the fleet are not judged"
        )
    routes = "|".join(re.escape(route) for route in plan.routes)
    selector = f"job={job},route=~{_string(routes)}"
    counts = RouteCounts(sources={instance: RouteCounts() for instance in up})
    wanted = set(plan.routes)
    for name, labels in _SERIES:
        query = f"sum by (instance, {', '.join(labels)}) ({name}{{{selector}}})"
        for series, value in _query(session, source, query, at):
            replica = counts.sources.setdefault(series.get("instance", "?"), RouteCounts())
            count_sample(replica, wanted, name, series, value)
    for replica in counts.sources.values():
        counts.add(replica)
    return counts


def _string(value: str) -> str:
    """``value`` as a PromQL string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _query(
    session: requests.Session, source: PrometheusSource, query: str, at: float
) -> list[tuple[dict[str, str], float]]:
    """An instant query's vector: each series' labels and value."""
    where = f"Prometheus at {source.url}"
    try:
        response = session.get(
            f"{source.url}/api/v1/query",
            params={"query": query, "time": f"{at:.3f}"},
            timeout=QUERY_TIMEOUT_SECONDS,
        )
        body = response.json()
    except requests.RequestException as exc:
        raise PrometheusUnanswered(f"{where}: {exc}") from exc
    except ValueError as exc:
        raise PrometheusUnanswered(
            f"{where} answered {response.status_code} without JSON: is it Prometheus?"
        ) from exc
    if not isinstance(body, dict) or body.get("status") != "success":
        error = body.get("error") if isinstance(body, dict) else None
        raise PrometheusUnanswered(f"{where} refused {query!r}: {error or response.status_code}")
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
