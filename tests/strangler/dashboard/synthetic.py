"""A migration of any size for the dashboard's tests and its benchmark: a proxy's admin API
(routes and ``/metrics``) that a test can change, plan files, and comparison results.

Nothing here is the system under test; the dashboard reads these over the same wires as a
real proxy's, a real results file and real plan files.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strangler.compare import CompareEngine, HttpRequest, HttpResponse
from strangler.compare.results import ResultsStore, ResultsWriter

LEGACY, SERVICE = "monolith", "catalog"
MODES = ("monolith", "shadow", "canary", "service")
BUCKETS = ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "+Inf")
# What only an admin may see: it is in a recorded answer, so in the comparison examples.
SECRET_VALUE = "alice-private-note-4711"


def route_name(i: int) -> str:
    return f"route-{i:04d}"


def _route(i: int) -> dict[str, Any]:
    mode = MODES[i % len(MODES)]
    owner = LEGACY if mode == "monolith" else SERVICE
    return {
        "name": route_name(i), "pattern": f"/api/r{i}/", "kind": "prefix", "methods": None,
        "owner": owner, "mode": mode, "canary_percent": 25.0 if mode == "canary" else 0.0,
        "fallback": mode != "monolith", "shadow_sample_rate": 1.0,
        "read_sides": {"canary": [LEGACY, SERVICE], "service": [SERVICE]}.get(mode, [LEGACY]),
        "write_owner": SERVICE if mode == "service" else LEGACY, "hold_until": 0,
    }  # fmt: skip


@dataclass
class FakeProxy:
    """The admin API's ``GET /routes`` and ``GET /metrics`` for ``routes`` routes; counters
    grow by ``per_read`` requests a route and side at each read of ``/metrics``."""

    routes: int
    per_read: int = 5
    listing: dict[str, Any] = field(init=False)
    reads: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.listing = {"legacy": LEGACY, "routes": [_route(i) for i in range(self.routes)]}

    def set_mode(self, name: str, mode: str, canary_percent: float = 0.0) -> None:
        with self._lock:
            for route in self.listing["routes"]:
                if route["name"] == name:
                    route["mode"], route["canary_percent"] = mode, canary_percent

    def metrics(self) -> str:
        with self._lock:
            self.reads += 1
            n = self.reads * self.per_read
            lines = [
                "# TYPE strangler_proxy_requests_total counter",
                "# TYPE strangler_proxy_request_duration_seconds histogram",
            ]
            for route in self.listing["routes"]:
                name = route["name"]
                for side in route["read_sides"]:
                    labels = f'route="{name}",upstream="{side}",mode="{route["mode"]}"'
                    lines.append(f'strangler_proxy_requests_total{{{labels},status="200"}} {n}')
                    lines.append(
                        f'strangler_proxy_requests_total{{{labels},status="503"}} {n // 50}'
                    )
                    for k, bound in enumerate(BUCKETS):
                        count = n * min(1.0, (k + 1) / 6)
                        lines.append(
                            "strangler_proxy_request_duration_seconds_bucket"
                            f'{{route="{name}",upstream="{side}",le="{bound}"}} {count}'
                        )
            lines.append("# TYPE strangler_proxy_breaker_state gauge")
            lines.append(f'strangler_proxy_breaker_state{{upstream="{LEGACY}"}} 0.0')
            lines.append(f'strangler_proxy_breaker_state{{upstream="{SERVICE}"}} 0.0')
            return "\n".join(lines) + "\n"

    def answer(self, request: Any) -> tuple[int, Any]:
        path = request.path.split("?")[0]
        if path == "/metrics":
            return 200, self.metrics()
        if path == "/routes":
            with self._lock:
                return 200, json.loads(json.dumps(self.listing))
        return 404, {"code": "not_found", "message": path}


def write_plans(
    directory: Path, plans: int, routes: int, *, node_url: str, state_dir: Path | None = None
) -> list[str]:
    """``plans`` plan files sharing ``routes`` routes out between them; their names. With
    ``state_dir``, each plan is at its second step (shadow) since a minute ago."""
    directory.mkdir(parents=True, exist_ok=True)
    names = []
    for p in range(plans):
        mine = [route_name(i) for i in range(routes) if i % plans == p][:50] or [route_name(0)]
        name = f"plan-{p:02d}"
        names.append(name)
        (directory / f"{name}.yaml").write_text(
            f"""
name: {name}
routes: [{", ".join(mine)}]
service: {SERVICE}
legacy: {LEGACY}
models: [catalog.Product]
nodes:
  {LEGACY}: {{url: "{node_url}", manage: "true"}}
  {SERVICE}: {{url: "{node_url}", manage: "true"}}
steps:
  - kind: backfill
    gate:
      conditions:
        - {{figure: sync_backlog, max: 0}}
  - kind: shadow
    gate:
      conditions:
        - {{figure: shadow_difference_rate, max: 0.01, min_count: 20}}
  - kind: cutover
"""
        )
        if state_dir is not None:
            state_dir.mkdir(parents=True, exist_ok=True)
            state = {"plan": name, "current": 1, "step_started_at": time.time() - 60}
            (state_dir / f"{name}.json").write_text(json.dumps(state))
    return names


def _json(value: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(status, (("Content-Type", "application/json"),), json.dumps(value).encode())


def write_results(path: Path, routes: list[str]) -> None:
    """Comparisons of each route: mostly equal, one in ten differing on ``note`` (holding
    ``SECRET_VALUE``), some not comparable."""
    engine = CompareEngine()
    for r, route in enumerate(routes):
        for i in range(40):
            request = HttpRequest("GET", f"/api/r{r}/{i}/")
            base = {"id": i, "price": "10.00", "note": SECRET_VALUE}
            candidate = dict(base, note=SECRET_VALUE + "-v2") if i % 10 == 0 else base
            engine.compare(route, request, _json(base), _json(candidate))
        engine.compare(route, HttpRequest("GET", "/x/"), _json({}, 503), _json({}))
    with ResultsStore(path) as store:
        ResultsWriter(engine, store).flush()
