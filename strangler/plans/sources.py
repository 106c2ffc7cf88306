"""Reading the live sources of a plan's figures: the proxy's admin API and the sync nodes.

The proxy answers its metrics (counters of the plan's routes, read by :func:`count_sample`,
which reads Prometheus's sums of the same series too) and its route table (who answers each
route); each sync node answers its status document, read through the sync's own signed
client and typed (``strangler.sync.status_document``). What cannot be read is ``None``,
with the reason added to ``errors``: a gate then says "inconclusive", never "passed".
``proxy_table`` and ``node_status`` raise instead, for the names check (``preflight``).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping, Set
from dataclasses import dataclass

import requests
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.utils import floatToGoString

from strangler.plans.schema import Plan
from strangler.plans.snapshot import RouteCounts, RouteSides, StreamState
from strangler.proxy_admin import admin_headers
from strangler.sync.errors import SyncError
from strangler.sync.signed_client import SignedClient
from strangler.sync.status_document import SyncStatus

__all__ = [
    "CONNECT_TIMEOUT_SECONDS",
    "READ_TIMEOUT_SECONDS",
    "SYNC_SECRET_VARIABLE",
    "ProxyTable",
    "Sample",
    "count_sample",
    "metric_samples",
    "node_status",
    "proxy_table",
    "read_route_counts",
    "read_writes_in_flight",
    "route_counts",
    "route_sides",
    "stream_from_status",
    "stream_state",
]

# Both sources are on the inside network and answer from memory or one query: 2 s to
# connect and 10 s to answer leave room for a loaded node without hanging `plan status`.
CONNECT_TIMEOUT_SECONDS = 2.0
READ_TIMEOUT_SECONDS = 10.0
SYNC_SECRET_VARIABLE = "STRANGLER_SYNC_SECRET"  # noqa: S105 - the variable's name


@dataclass(frozen=True)
class ProxyTable:
    """The proxy's route table, as its admin API lists it: the legacy upstream, and the
    owner (the upstream a route moves to) of each route by name."""

    legacy: str
    owners: dict[str, str]


def proxy_table(admin_url: str, session: requests.Session) -> ProxyTable:
    """The running table; ``requests.RequestException`` or ``ValueError`` if unreadable."""
    listing = _admin_get(session, admin_url, "routes").json()
    routes = listing.get("routes") if isinstance(listing, dict) else None
    if not isinstance(routes, list):
        raise ValueError(f"{admin_url}/routes answered no route listing")
    return ProxyTable(
        legacy=str(listing.get("legacy")),
        owners={
            str(row["name"]): str(row.get("owner"))
            for row in routes
            if isinstance(row, dict) and "name" in row
        },
    )


def route_sides(
    plan: Plan, admin_url: str, session: requests.Session, errors: list[str]
) -> dict[str, RouteSides]:
    try:
        listing = _admin_get(session, admin_url, "routes").json()
    except (requests.RequestException, ValueError) as exc:
        errors.append(f"proxy routes at {admin_url}: {exc}")
        return {}
    sides = {}
    for row in listing.get("routes", []) if isinstance(listing, dict) else []:
        if isinstance(row, dict) and row.get("name") in plan.routes:
            sides[str(row["name"])] = RouteSides(
                mode=str(row.get("mode")),
                read_sides=[str(side) for side in row.get("read_sides", [])],
                write_owner=str(row.get("write_owner")),
            )
    return sides


def route_counts(
    plan: Plan, admin_url: str, session: requests.Session, errors: list[str]
) -> RouteCounts | None:
    """The counts of one proxy (its admin API's ``/metrics``); ``None`` with the reason added
    to ``errors`` when unreadable."""
    try:
        return read_route_counts(plan, admin_url, session)
    except (requests.RequestException, ValueError) as exc:
        errors.append(f"proxy metrics at {admin_url}: {exc}")
        return None


def read_route_counts(plan: Plan, admin_url: str, session: requests.Session) -> RouteCounts:
    """The counts of the plan's routes in one proxy's ``/metrics`` (with several workers,
    every worker's); ``requests.RequestException`` or ``ValueError`` when unreadable."""
    response = _admin_get(session, admin_url, "metrics")
    routes = set(plan.routes)
    counts = RouteCounts()
    for name, labels, value in metric_samples(response.text):
        count_sample(counts, routes, name, labels, value)
    return counts


# The proxy's gauge of writes sent and not answered (strangler.proxy.metrics).
WRITES_IN_FLIGHT_METRIC = "strangler_proxy_writes_in_flight"


def read_writes_in_flight(routes: Set[str], admin_url: str, session: requests.Session) -> int:
    """Writes to ``routes`` one proxy (every worker of it) has sent upstream and not yet seen
    answered; ``requests.RequestException`` or ``ValueError`` when unreadable, or when the
    proxy does not report a route (one older than the gauge cannot say: never taken as 0)."""
    response = _admin_get(session, admin_url, "metrics")
    counts: dict[str, float] = {}
    for name, labels, value in metric_samples(response.text):
        route = labels.get("route", "")
        if name == WRITES_IN_FLIGHT_METRIC and route in routes:
            counts[route] = counts.get(route, 0.0) + value
    missing = sorted(set(routes) - set(counts))
    if missing:
        raise ValueError(
            f"its /metrics has no {WRITES_IN_FLIGHT_METRIC} for route(s) {', '.join(missing)}: "
            "a proxy older than this toolkit, or one whose table lacks them"
        )
    return round(sum(counts.values()))


Sample = tuple[str, Mapping[str, str], float]


_SAMPLE_LINE = re.compile(
    r"([a-zA-Z_:][a-zA-Z0-9_:]*)"  # the name
    r'(?:\{((?:\s*[a-zA-Z_][a-zA-Z0-9_]*\s*=\s*"(?:[^"\\]|\\.)*"\s*,?)*)\s*\})?'  # labels
    r"[ \t]+(\S+)(?:[ \t]+-?\d+)?[ \t]*"  # the value, and a timestamp
)
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"')
_ESCAPE = re.compile(r"\\(.)")
_ESCAPED = {"n": "\n", "\\": "\\", '"': '"'}


@functools.lru_cache(maxsize=4)
def metric_samples(text: str) -> tuple[Sample, ...]:
    """Every sample of a ``/metrics`` text as ``(name, labels, value)``, parsed once per
    distinct text: the overview reads one proxy's ``/metrics`` once per poll and judges each
    plan's routes on it. With a thousand routes the parse is what costs, so the text format's
    sample lines are read with one regular expression (five times faster than
    ``prometheus_client``'s parser); text with any line it does not recognise goes to that
    parser whole. Raises ``ValueError`` for text that is not metrics."""
    samples: list[Sample] = []
    for line in text.split("\n"):
        if not line or line.startswith("#") or line.isspace():
            continue
        match = _SAMPLE_LINE.fullmatch(line)
        if match is None:
            return _parsed_by_prometheus_client(text)
        name, labels, value = match.groups()
        pairs = _LABEL.findall(labels) if labels else []
        try:
            number = float(value)
        except ValueError:
            return _parsed_by_prometheus_client(text)
        samples.append(
            (
                name,
                {
                    key: _ESCAPE.sub(lambda m: _ESCAPED.get(m[1], "\\" + m[1]), raw)
                    if "\\" in raw
                    else raw
                    for key, raw in pairs
                },
                number,
            )
        )
    return tuple(samples)


def _parsed_by_prometheus_client(text: str) -> tuple[Sample, ...]:
    return tuple(
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    )


def count_sample(
    counts: RouteCounts, routes: Set[str], name: str, labels: Mapping[str, str], value: float
) -> None:
    """Add one sample of the proxy's metrics to ``counts`` if it is of one of ``routes``:
    the one reading of the proxy's series, whether from ``/metrics`` or from Prometheus."""
    if labels.get("route") not in routes:
        return
    if name == "strangler_proxy_requests_total":
        upstream = labels["upstream"]
        counts.requests[upstream] = counts.requests.get(upstream, 0.0) + value
        if labels["status"].startswith("5"):
            counts.errors[upstream] = counts.errors.get(upstream, 0.0) + value
    elif name == "strangler_proxy_request_duration_seconds_bucket":
        buckets = counts.latency_buckets.setdefault(labels["upstream"], {})
        # One spelling of a bound ("1.0", "+Inf") whoever wrote it down.
        bound = floatToGoString(float(labels["le"]))  # type: ignore[no-untyped-call]
        buckets[bound] = buckets.get(bound, 0.0) + value
    elif name == "strangler_proxy_fallbacks_total":
        counts.fallbacks += value
    elif name == "strangler_proxy_shadow_total":
        if labels["outcome"] == "match":
            counts.shadow_match += value
        elif labels["outcome"] in ("mismatch", "candidate_error"):
            # A service that broke where the monolith answered is a difference too.
            counts.shadow_mismatch += value


def _admin_get(session: requests.Session, admin_url: str, path: str) -> requests.Response:
    """The proxy admin API's answer to ``GET path``; ``requests.RequestException`` unless 2xx."""
    response = session.get(
        f"{admin_url.rstrip('/')}/{path}",
        headers=admin_headers(),
        timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
    )
    response.raise_for_status()
    return response


def stream_state(
    node_url: str,
    node: str,
    peer: str,
    session: requests.Session,
    errors: list[str],
    *,
    secret: str | None = None,
) -> StreamState | None:
    """The stream from ``node`` (at ``node_url``) to ``peer``, as ``node`` reports it; ``None``
    (with the reason added to ``errors``) when it cannot be read or ``node`` has no such peer.
    The read is signed as ``peer``, the only sender ``node`` takes calls from (docs/sync.md,
    "Authentication"), and asked once: a figure nobody could read is "inconclusive" anyway.
    ``secret``: the sync secret, else ``$STRANGLER_SYNC_SECRET``."""
    if secret is None:
        secret = os.environ.get(SYNC_SECRET_VARIABLE, "")
    if not secret:
        errors.append(
            f"sync status of {node} at {node_url}: no sync secret to sign the read with "
            f"(set {SYNC_SECRET_VARIABLE})"
        )
        return None
    try:
        status = node_status(node_url, node, peer, session, secret=secret)
    except SyncError as exc:  # unreachable, refused, or not a status: each names the URL
        errors.append(exc.message)
        return None
    return stream_from_status(status, peer)


def node_status(
    node_url: str, node: str, sender: str, session: requests.Session, *, secret: str
) -> SyncStatus:
    """The status document of ``node`` (at ``node_url``), asked once, signed as ``sender``;
    ``SyncError`` when unreachable, refused (``ReceiverError.code`` says why) or malformed."""
    client = SignedClient(
        base_url=node_url, secret=secret, sender=sender, receiver=node, session=session,
        retries=0, timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
    )  # fmt: skip
    return client.status()


def stream_from_status(status: SyncStatus, peer: str) -> StreamState | None:
    """The stream to ``peer`` in a node's status, as a plan's figures need it."""
    stream = status.stream_to(peer)
    if stream is None:
        return None
    # A reconcile counts once every table to the peer has finished one: the oldest of their
    # latest runs is when the whole stream was last verified.
    runs = status.reconciles_with(peer)
    finished = [run.finished_at.timestamp() for run in runs if run.finished_at is not None]
    complete = bool(runs) and len(finished) == len(runs)
    return StreamState(
        enabled=stream.enabled,
        paused_reason=stream.paused_reason,
        backlog=stream.backlog,
        lag_seconds=None if stream.lag_seconds is None else float(stream.lag_seconds),
        dead_letters=status.dead_letters.parked,
        reconcile_finished_at=min(finished) if complete else None,
        reconcile_diverged=sum(run.diverged for run in runs) if complete else None,
    )
