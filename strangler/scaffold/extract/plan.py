"""The route table entry and the migration plan of an extracted service (no Django)."""

from __future__ import annotations

import re
from typing import Any

from strangler.scaffold.extract.generate import Extraction

__all__ = ["plan_yaml", "route_entries"]

_DEFAULT_SERVICE_PORT = 8200


def _route_name(service: str, pattern: dict[str, Any]) -> str:
    base = pattern["qualified"] or pattern["full"] or "root"
    return f"{service}-" + re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")


def route_entries(x: Extraction, taken: list[str], service_url: str) -> dict[str, Any]:
    """The service's upstream, the routes of the table it takes over (by name), and new
    routes (mode ``monolith``, ready for shadow) for the patterns they do not cover."""
    variable = x.service.upper()
    url = service_url or f"http://127.0.0.1:${{{variable}_PORT:-{_DEFAULT_SERVICE_PORT}}}"
    routes: list[dict[str, Any]] = [{"name": name} for name in taken]
    if not taken:
        seen: set[tuple[str, str]] = set()
        for pattern in x.patterns:
            proxy = pattern.get("proxy") or {}
            kind, text = proxy.get("kind"), proxy.get("pattern")
            if kind not in ("path", "prefix") or not text or (kind, text) in seen:
                x.checklist.add(
                    "Route table",
                    f"`{pattern['qualified']}` (`{pattern['full']}`) has no proxy pattern: add its route by hand",
                ) if kind not in ("path", "prefix") or not text else None
                continue
            seen.add((kind, text))
            routes.append(
                {
                    "name": _route_name(x.service, pattern),
                    kind: text,
                    "owner": x.service,
                    "mode": "monolith",
                    "fallback": True,
                }
            )
    return {"upstream": {"url": url, "health_path": "/healthz"}, "routes": routes}


def plan_yaml(x: Extraction, routes: list[str]) -> str:
    """``migration_plans/<service>.yaml``, the steps and gates of ``migration_plans/catalog.yaml``."""
    legacy = x.report["sync_node"]
    variable = x.service.upper()
    models = ", ".join(m["label"] for m in x.report["models"])
    return f"""# The {x.service} service's extraction from the monolith, step by step (written by
# strangler extract). Each step's gate must pass, on figures measured while the step is
# current, before `strangler plan next {x.service}` applies the step after it.
version: 1
name: {x.service}
description: Move {", ".join(a["label"] for a in x.report["apps"])} from the monolith to the {x.service} service
routes: [{", ".join(routes)}]
service: {x.service}
legacy: {legacy}
models: [{models}]
nodes:
  {legacy}: {{url: "http://127.0.0.1:${{{legacy.upper()}_PORT:-8000}}", manage: "python -m {x.report["root_package"]}"}}
  {x.service}: {{url: "http://127.0.0.1:${{{variable}_PORT:-{_DEFAULT_SERVICE_PORT}}}", manage: "python -m {x.service}"}}
cutover_hold_seconds: 10
steps:
  - kind: backfill
    gate:
      conditions:
        - {{figure: sync_backlog, max: 0}}
        - {{figure: sync_dead_letters, max: 0}}
  - kind: sync
    gate:
      conditions:
        - {{figure: sync_lag_seconds, max: 10}}
        - {{figure: sync_dead_letters, max: 0}}
  - kind: verify
    gate:
      conditions:
        - {{figure: reconcile_diverged, max: 0}}
        - {{figure: sync_lag_seconds, max: 10}}
  - kind: shadow
    gate:
      min_seconds: 10
      conditions:
        - {{figure: shadow_difference_rate, max: 0.001, min_count: 200}}
        - {{figure: sync_lag_seconds, max: 10}}
  - kind: canary
    percent: 10
    gate:
      min_seconds: 10
      conditions:
        - {{figure: service_error_rate_excess, max: 0.005, min_count: 50}}
        - {{figure: service_latency_p99_ratio, max: 1.5, min_count: 50}}
  - kind: canary
    percent: 50
    gate:
      min_seconds: 10
      conditions:
        - {{figure: service_error_rate_excess, max: 0.005, min_count: 200}}
        - {{figure: service_latency_p99_ratio, max: 1.5, min_count: 200}}
        - {{figure: sync_lag_seconds, max: 10}}
  - kind: cutover
    gate:
      min_seconds: 10
      conditions:
        - {{figure: service_error_rate, max: 0.01, min_count: 200}}
        - {{figure: reverse_sync_lag_seconds, max: 10}}
  - kind: reverse_sync
    gate:
      conditions:
        - {{figure: reverse_sync_lag_seconds, max: 10}}
        - {{figure: reconcile_diverged, max: 0}}
  - kind: decommission
"""
