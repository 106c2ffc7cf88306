"""The route table entry and the migration plan of an extracted service (no Django)."""

from __future__ import annotations

import re
from typing import Any

from strangler.scaffold.extract.generate import Extraction, template

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
    seen: set[tuple[str, str]] = set()
    for pattern in x.patterns:
        if pattern.get("covered_by"):
            if pattern.get("left_with_owner") not in (None, x.service):
                x.checklist.add(
                    "Route table",
                    f"`{pattern['qualified']}`: the table's route `{pattern['covered_by']}` "
                    f"sends it to `{pattern['left_with_owner']}`; pass `--routes "
                    f"{pattern['covered_by']}` to give that route to {x.service}",
                )
            continue
        proxy = pattern.get("proxy") or {}
        kind, text = proxy.get("kind"), proxy.get("pattern")
        if kind not in ("path", "prefix") or not text:
            x.checklist.add(
                "Route table",
                f"`{pattern['qualified']}` (`{pattern['full']}`) has no proxy pattern: "
                "add its route by hand",
            )
            continue
        if (kind, text) in seen:
            continue
        seen.add((kind, text))
        route = {"name": _route_name(x.service, pattern), kind: text, "owner": x.service}
        routes.append({**route, "mode": "monolith", "fallback": True})
    return {"upstream": {"url": url, "health_path": "/healthz"}, "routes": routes}


def plan_yaml(x: Extraction, routes: list[str], service_manage: str = "") -> str:
    """``migration_plans/<service>.yaml``: the steps and gates of the demo's catalog plan.
    The monolith's URL is the route table's; each node's ``manage`` line runs where the plan
    is used (the monolith's directory)."""
    legacy = x.report["sync_node"]
    port, default = x.legacy_port
    return template(
        "plan.yaml",
        service=x.service,
        SERVICE=x.service.upper(),
        apps=", ".join(a["label"] for a in x.report["apps"]),
        routes=", ".join(routes),
        legacy=legacy,
        LEGACY=legacy.upper(),
        legacy_url=x.legacy_url or f"http://127.0.0.1:${{{port}:-{default}}}",
        legacy_upstream=(
            f", upstream: {x.legacy_upstream}"
            if x.legacy_upstream and x.legacy_upstream != legacy
            else ""
        ),
        legacy_manage=x.legacy_manage or f"python -m {x.report['root_package']}",
        service_manage=service_manage or f"python -m {x.service}",
        models=", ".join(m["label"] for m in x.report["models"]),
        root=x.report["root_package"],
    )
