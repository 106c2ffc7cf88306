"""How ``strangler routes list`` shows the routes: a text table, or JSON."""

from __future__ import annotations

import json
from typing import Any

from strangler.cli.errors import ExitCode
from strangler.cli.routes.fleet import print_fleet

__all__ = ["show"]


def show(
    payload: dict[str, Any],
    *,
    source: str,
    location: str,
    json_output: bool,
    fleet: dict[str, Any] | None = None,
) -> int:
    """Print the routes of ``payload`` (the admin API's or the checker's report): ``source``
    ``admin``, ``store`` or ``file``; then the proxy's replicas when ``fleet`` lists them."""
    routes: list[dict[str, Any]] = payload["routes"]
    if json_output:
        out = {"source": source, "location": location, "legacy": payload["legacy"]}
        if fleet is not None:
            out["fleet"] = fleet
        print(json.dumps({**out, "routes": routes}, indent=2))
        return ExitCode.OK
    heading = {
        "admin": f"Routes of the running proxy ({location}), most specific first:",
        "store": f"Routes in {location} (no proxy answered), most specific first:",
    }.get(source, f"Routes in {location} (the proxy is not running), most specific first:")
    _print_table(routes, heading=heading, with_counters=source == "admin")
    print(f"Anything else goes to {payload['legacy']!r}.")
    if fleet is not None:
        print()
        print_fleet(fleet)
    return ExitCode.OK


def _cells(route: dict[str, Any], with_counters: bool) -> list[str]:
    pattern = route["pattern"] + ("*" if route["kind"] == "prefix" else "")
    methods = ",".join(route["methods"]) if route["methods"] else "*"
    canary = f"{route['canary_percent']:g}%" if route["mode"] == "canary" else "-"
    sample = f"{route['shadow_sample_rate'] * 100:g}%" if route["mode"] == "shadow" else "-"
    fallback = "yes" if route["fallback"] else "no"
    cells = [route["name"], pattern, methods, route["owner"], route["mode"], canary, fallback]
    cells.append(sample)
    if with_counters:
        counters = route["counters"]
        shadow = counters["shadow"]
        cells += [
            str(counters["requests"]["total"]),
            str(counters["requests"].get("5xx", 0)),
            str(counters["fallbacks"]),
            (
                f"{shadow['match']}/{shadow['mismatch'] + shadow.get('candidate_error', 0)}"
                if route["mode"] == "shadow"
                else "-"
            ),
        ]
    return cells


def _print_table(routes: list[dict[str, Any]], *, heading: str, with_counters: bool) -> None:
    header = ["NAME", "PATTERN", "METHODS", "OWNER", "MODE", "CANARY", "FALLBACK", "SAMPLE"]
    if with_counters:
        header += ["REQUESTS", "5XX", "FALLBACKS", "SHADOW MATCH/MISMATCH"]
    rows = [header] + [_cells(route, with_counters) for route in routes]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    print(heading)
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())
