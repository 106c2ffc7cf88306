"""What the rules and the dashboard's queries are held to: the series names the code defines,
and promtool's parse of an expression.

The names are read from the metrics' definitions in the code (not imported: the sync's
families are built at scrape time from a database), so renaming a metric there fails every
rule and panel that still reads the old name.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
from pathlib import Path

__all__ = ["OUR_METRIC", "check_expressions", "exposed_metric_names"]

_METRIC_SOURCES = ("strangler/proxy/metrics.py", "strangler/sync/metrics.py")
# A metric defined in the code: its class and the name it is given (prometheus_client's
# constructors, and the sync collector's metric families).
_DEFINITION = re.compile(
    r"\b(Counter|Gauge|Histogram|CounterMetricFamily|GaugeMetricFamily)\(\s*\"([a-z0-9_]+)\""
)
# The request metrics of the Django projects (strangler.servicekit.request_metrics): the
# installed django-prometheus' middleware defines them as ``register_metric(Counter, "name"``.
_LIBRARY_DEFINITION = re.compile(r"\b(Counter|Gauge|Histogram),\s*\"([a-z0-9_]+)\"")
# A series name of ours in PromQL (the rules and the panels read no other).
OUR_METRIC = re.compile(r"\b(?:strangler|django_http)_[a-z0-9_]+\b")


def _django_prometheus_middleware() -> str:
    spec = importlib.util.find_spec("django_prometheus")
    if spec is None or not spec.origin:
        raise AssertionError("django-prometheus is not installed (the service extra)")
    return (Path(spec.origin).parent / "middleware.py").read_text(encoding="utf-8")


def exposed_metric_names(repo: Path) -> set[str]:
    """The series names the proxy, the sync and the Django projects' request metrics expose: a
    counter as ``<name>_total``, a histogram as its ``_bucket``, ``_sum`` and ``_count``, a gauge
    as its name."""
    names: set[str] = set()
    definitions = [
        found
        for source in _METRIC_SOURCES
        for found in _DEFINITION.findall((repo / source).read_text(encoding="utf-8"))
    ]
    definitions += _LIBRARY_DEFINITION.findall(_django_prometheus_middleware())
    for kind, name in definitions:
        if kind in ("Counter", "CounterMetricFamily"):
            names.add(name.removesuffix("_total") + "_total")
        elif kind == "Histogram":
            names.update(f"{name}_{part}" for part in ("bucket", "sum", "count"))
        else:
            names.add(name)
    return names


def check_expressions(
    promtool: Path, expressions: dict[str, str], directory: Path
) -> subprocess.CompletedProcess[str]:
    """promtool's parse of each expression, each made a recording rule named after its key
    (promtool checks a query only against a server, a rule file without one)."""
    rules = [
        {"record": "check:" + re.sub(r"[^a-zA-Z0-9_]", "_", key), "expr": expr}
        for key, expr in expressions.items()
    ]
    path = directory / "expressions.rules.yml"
    # JSON is YAML: promtool reads it as a rule file.
    path.write_text(json.dumps({"groups": [{"name": "expressions", "rules": rules}]}))
    return subprocess.run(
        [str(promtool), "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
