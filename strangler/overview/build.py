"""The overview ``strangler status`` prints and ``strangler dashboard`` shows: one JSON-ready
document from every live source.

Each part is read on its own, and a part that cannot be read is listed under ``unknown``
with the reason instead of stopping the rest: the routes and counters (the proxy,
:mod:`~strangler.overview.traffic`), every plan under ``--plans`` with the gate of its
current step (computed by :func:`strangler.plans.runner.plan_status`, exactly as
``plan status`` computes it), each sync stream between a plan's nodes (the plans'
:func:`~strangler.plans.sources.stream_state`), the newest audit entries (the control
store's, else the trail beside the proxy's table file: read directly when it is on this
host, else through the admin API's ``GET /audit`` with the token), with a control store
the fleet of proxy replicas, and the comparison results per route
(:mod:`~strangler.overview.comparison`). ``audit`` holds entries in
``AuditRecord.as_json``'s shape in both modes; ``audit_problem`` says when the file's hash
chain is broken.
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import requests

from strangler import audit_file
from strangler.compare.results import ResultsLocation
from strangler.control import ControlStore, StoreError
from strangler.overview.comparison import comparison_part
from strangler.overview.fleet import fleet_from_store
from strangler.overview.traffic import Traffic, read_routes, read_traffic
from strangler.plans.figures import collect, quantile, stream_state
from strangler.plans.fleet_counts import replica_admin_urls
from strangler.plans.prometheus import prometheus_source
from strangler.plans.runner import plan_status
from strangler.plans.schema import Plan, PlanError, load_plan
from strangler.plans.snapshot import RouteCounts
from strangler.plans.sources import SYNC_SECRET_VARIABLE, node_status
from strangler.proxy_admin import admin_headers
from strangler.sync.errors import SyncError

__all__ = ["AUDIT_ENTRIES", "build_overview", "could_read_anything"]

# The figure: the newest ten changes, enough to see what moved today.
AUDIT_ENTRIES = 10


def build_overview(
    *,
    plans_dir: Path,
    state_dir: Path,
    admin_url: str,
    session: requests.Session,
    store: ControlStore | None,
    store_unreachable: str = "",
    results: ResultsLocation | None = None,
) -> dict[str, Any]:
    """The overview; ``store_unreachable``: why a configured store could not be opened;
    ``results``: the comparison results (``None``: where ``strangler compare`` reads them)."""
    unknown: dict[str, str] = {}
    listing = _routes(admin_url, session, unknown)
    traffic = _traffic(admin_url, session, store, unknown)
    holds = _holds(store, unknown)
    plans, loaded = _plans(plans_dir, unknown)
    routes = _route_rows(listing, traffic, holds) if listing is not None else None
    legacy = str(listing["legacy"]) if listing is not None else None
    document: dict[str, Any] = {
        "taken_at": time.time(),
        "admin": admin_url,
        "store": store.where if store is not None else None,
        "plans_dir": str(plans_dir),
        "headline": _headline(routes, traffic, legacy, loaded),
        "routes": routes,
        "plans": [],
        "sync": _sync(loaded, session),
        "comparison": comparison_part(results, unknown),
        "fleet": None,
        "audit": None,
        "audit_problem": None,
        "unknown": unknown,
    }
    if store_unreachable:
        for part in ("plans", "fleet", "audit"):
            unknown[part] = store_unreachable
        document["plans"] = plans
        return document
    document["plans"] = plans + [
        _plan_status(plan, state_dir, admin_url, session, store) for plan in loaded
    ]
    if store is None:
        document["audit"], document["audit_problem"] = _file_audit(
            listing, admin_url, session, unknown
        )
    if store is not None:
        try:
            document["fleet"] = fleet_from_store(store)
        except StoreError as exc:
            unknown["fleet"] = exc.message
        try:
            document["audit"] = [e.as_json() for e in store.audit(limit=AUDIT_ENTRIES)]
        except StoreError as exc:
            unknown["audit"] = exc.message
    return document


def _file_audit(
    listing: dict[str, Any] | None,
    admin_url: str,
    session: requests.Session,
    unknown: dict[str, str],
) -> tuple[list[dict[str, Any]] | None, str | None]:
    """The file store's newest entries and the trail's problem: from the file when the
    proxy's table is on this host, else from its admin API (which needs the token)."""
    table = Path(str(listing["file"])) if listing is not None and listing.get("file") else None
    if table is not None and table.is_file():
        try:
            trail = audit_file.read_trail(table, limit=AUDIT_ENTRIES)
        except OSError as exc:
            unknown["audit"] = f"{audit_file.audit_path(table)}: {exc.strerror or exc}"
            return None, None
        return [entry.as_json() for entry in trail.entries], trail.problem
    url = f"{admin_url.rstrip('/')}/audit"
    try:
        response = session.get(
            url, params={"limit": AUDIT_ENTRIES}, headers=admin_headers(), timeout=5
        )
        payload = response.json()
    except (requests.RequestException, ValueError) as exc:
        unknown["audit"] = f"{url}: {exc}"
        return None, None
    if response.status_code != 200 or not isinstance(payload, dict):
        why = payload.get("message") if isinstance(payload, dict) else response.text[:200]
        unknown["audit"] = f"{url} answered {response.status_code}: {why}"
        return None, None
    return list(payload.get("entries") or []), payload.get("problem")


def could_read_anything(document: dict[str, Any]) -> bool:
    """Whether any live source answered: the proxy, a sync node, or the store."""
    streams = [s for s in document["sync"] if s.get("state") is not None]
    return bool(
        document["routes"] is not None
        or "traffic" not in document["unknown"]
        or streams
        or document["fleet"] is not None
        or document["audit"] is not None
    )


def _routes(admin_url: str, session: requests.Session, unknown: dict[str, str]) -> Any:
    try:
        return read_routes(admin_url, session)
    except (requests.RequestException, ValueError) as exc:
        unknown["routes"] = f"proxy routes at {admin_url}: {exc}"
        return None


def _traffic(
    admin_url: str, session: requests.Session, store: ControlStore | None, unknown: dict[str, str]
) -> Traffic | None:
    urls: list[str] = []
    if store is not None:
        try:
            urls = replica_admin_urls(store)
        except StoreError as exc:
            unknown["traffic"] = f"cannot tell which proxy replicas there are: {exc.message}"
            return None
    try:
        return read_traffic(urls or [admin_url.rstrip("/")], session)
    except ValueError as exc:
        unknown["traffic"] = str(exc)
        return None


def _holds(store: ControlStore | None, unknown: dict[str, str]) -> dict[str, float] | None:
    """The holds in force from the store (the fleet's truth); ``None``: the proxy's word."""
    if store is None:
        return None
    try:
        return dict(store.read_holds().holds)
    except StoreError as exc:
        unknown["holds"] = exc.message
        return None


def _plans(plans_dir: Path, unknown: dict[str, str]) -> tuple[list[dict[str, Any]], list[Plan]]:
    """``(an entry for each plan file that cannot be loaded, the plans that can)``."""
    files = sorted([*plans_dir.glob("*.yaml"), *plans_dir.glob("*.yml")])
    if not plans_dir.is_dir():
        unknown["plans"] = f"no plans directory at {plans_dir} (give --plans DIR)"
    broken, loaded = [], []
    for path in files:
        try:
            stat = path.stat()
            loaded.append(_load_plan(path, stat.st_mtime_ns, stat.st_size))
        except (PlanError, OSError) as exc:
            broken.append({"name": path.stem, "file": str(path), "unknown": str(exc)})
    return broken, loaded


@functools.lru_cache(maxsize=256)
def _load_plan(path: Path, mtime_ns: int, size: int) -> Plan:
    """A plan file, read again only when it changed: the dashboard builds the overview every
    second, and parsing ten YAML files each time cost more than reading the proxy."""
    return load_plan(path)


def _service_weight(route: dict[str, Any], legacy: str) -> float:
    """How much of a route's reads the services answer: a canary by its percentage, shadow
    none (the monolith answers, the service is only compared)."""
    if route.get("owner") == legacy:
        return 0.0
    if route.get("mode") == "service":
        return 1.0
    if route.get("mode") == "canary":
        return float(route.get("canary_percent") or 0.0) / 100
    return 0.0


def _route_rows(
    listing: dict[str, Any], traffic: Traffic | None, holds: dict[str, float] | None
) -> list[dict[str, Any]]:
    now = time.time()
    rows = []
    for route in listing["routes"]:
        if not isinstance(route, dict):
            continue
        name = str(route.get("name"))
        hold_until = (holds or {}).get(name, 0.0) if holds is not None else route.get("hold_until")
        counts = traffic.routes.get(name, RouteCounts()) if traffic is not None else None
        sides = None
        if counts is not None:
            sides = {
                side: {
                    "requests": int(n),
                    "errors": int(counts.errors.get(side, 0.0)),
                    "p99_seconds": _p99(counts, side),
                }
                for side, n in sorted(counts.requests.items())
            }
        upstreams = {str(route.get("owner")), str(listing["legacy"])}
        rows.append(
            {
                "name": name,
                "mode": route.get("mode"),
                "owner": route.get("owner"),
                "write_owner": route.get("write_owner"),
                "read_sides": route.get("read_sides"),
                "canary_percent": route.get("canary_percent"),
                "fallback": route.get("fallback"),
                "service_share": _service_weight(route, str(listing["legacy"])),
                "sides": sides,
                "fallbacks": int(counts.fallbacks) if counts is not None else None,
                "breakers": {u: traffic.breakers.get(u, "unknown") for u in sorted(upstreams)}
                if traffic is not None
                else None,
                "hold_until": hold_until or None,
                "held": bool(hold_until and float(hold_until) > now),
            }
        )
    return rows


def _p99(counts: RouteCounts, side: str) -> float | None:
    """The side's p99 since the proxy started; ``None`` without a request (or past the
    histogram's last bound, which JSON cannot carry as infinity)."""
    value = quantile(counts.latency_buckets.get(side, {}), 0.99)
    return round(value, 6) if value is not None and value != float("inf") else None


def _share(counts: list[RouteCounts], legacy: str) -> dict[str, Any]:
    by_side: dict[str, float] = {}
    for one in counts:
        for side, n in one.requests.items():
            by_side[side] = by_side.get(side, 0.0) + n
    total = sum(by_side.values())
    services = sum(n for side, n in by_side.items() if side != legacy)
    return {
        "requests": int(total),
        "by_side": {side: int(n) for side, n in sorted(by_side.items())},
        "services_share": services / total if total > 0 else None,
    }


def _headline(
    routes: list[dict[str, Any]] | None,
    traffic: Traffic | None,
    legacy: str | None,
    plans: list[Plan],
) -> dict[str, Any]:
    """Share of routes and of requests the services answer, overall and per plan."""

    def part(names: set[str] | None) -> dict[str, Any]:
        rows = [r for r in routes or [] if names is None or r["name"] in names]
        out: dict[str, Any] = {
            "routes": len(rows) if routes is not None else None,
            "routes_share": sum(r["service_share"] for r in rows) / len(rows) if rows else None,
            "traffic": None,
        }
        if traffic is not None and legacy is not None:
            chosen = [c for n, c in traffic.routes.items() if names is None or n in names]
            out["traffic"] = _share(chosen, legacy)
        return out

    return {
        "legacy": legacy,
        "overall": part(None),
        "plans": {plan.name: part(set(plan.routes)) for plan in plans},
    }


def _sync(plans: list[Plan], session: requests.Session) -> list[dict[str, Any]]:
    """Each stream between a plan's nodes, once however many plans share it."""
    streams: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()
    for plan in plans:
        legacy, service = plan.peer_of(plan.legacy), plan.peer_of(plan.service)
        for key, node, peer in ((plan.legacy, legacy, service), (plan.service, service, legacy)):
            url = plan.nodes[key].url
            if (url, node, peer) in seen:
                continue
            seen.add((url, node, peer))
            errors: list[str] = []
            state = stream_state(url, node, peer, session, errors)
            reason = "; ".join(errors) or f"{node} at {url} has no stream to {peer}"
            streams.append(
                {
                    "plan": plan.name,
                    "stream": f"{node} -> {peer}",
                    "node_url": url,
                    "state": asdict(state) if state is not None else None,
                    "unknown": None if state is not None else reason,
                    **(_node_health(url, node, peer, session) if state is not None else {}),
                }
            )
    return streams


def _node_health(url: str, node: str, peer: str, session: requests.Session) -> dict[str, Any]:
    """Why the node says it is unhealthy (its dead letters' reasons among them) and its dead
    letters by the source that sent them. The status was just read for the stream's state:
    with a :class:`~strangler.overview.poll_session.PollSession` this read is that answer."""
    secret = os.environ.get(SYNC_SECRET_VARIABLE, "")
    try:
        status = node_status(url, node, peer, session, secret=secret)
    except SyncError as exc:
        return {"problems": [exc.message], "dead_letters_by_source": None}
    return {
        "problems": list(status.problems),
        "dead_letters_by_source": dict(status.dead_letters.by_source),
    }


def _plan_status(
    plan: Plan,
    state_dir: Path,
    admin_url: str,
    session: requests.Session,
    store: ControlStore | None,
) -> dict[str, Any]:
    try:
        snapshot = collect(
            plan, admin_url=admin_url, session=session, store=store,
            prometheus=prometheus_source(plan),
        )  # fmt: skip
        status = plan_status(plan, state_dir=state_dir, now=snapshot, store=store)
    except StoreError as exc:
        return {"name": plan.name, "unknown": f"plan state: {exc.message}"}
    current = plan.steps[status.current].name if 0 <= status.current < len(plan.steps) else None
    following = status.current + 1
    return {
        "name": plan.name,
        "description": plan.description,
        "routes": list(plan.routes),
        "current_step": current,
        "next_step": plan.steps[following].name if following < len(plan.steps) else None,
        "steps": status.steps,
        "pending": status.pending,
        "gate": asdict(status.gate) if status.gate is not None else None,
        "errors": status.errors,
        "unknown": None,
    }
