"""``strangler status`` in the terminal: the overview document as rich tables.

Reads only the document :func:`~strangler.overview.build_overview` made, so the
terminal and ``--json`` always say the same; a part that could not be read is printed as
"unknown" with its reason.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

__all__ = ["render"]

# Wide enough for the routes table when the output is not a terminal (a pipe, a log file),
# where rich would otherwise wrap it at 80 columns.
PIPE_WIDTH = 160


def render(document: dict[str, Any], console: Console) -> None:
    unknown: dict[str, str] = document["unknown"]
    _headline(document, console)
    _routes(document, console)
    _plans(document, console)
    _sync(document, console)
    _comparison(document, console)
    if document["store"] is not None or "fleet" in unknown:
        _fleet(document, console)
        _audit(document, console)
    for part, reason in unknown.items():
        if part not in ("routes", "plans", "fleet", "audit", "comparison"):
            console.print(f"{part}: unknown ({escape(reason)})")


def _percent(share: float | None) -> str:
    return "unknown" if share is None else f"{share * 100:.1f}%"


def _headline(document: dict[str, Any], console: Console) -> None:
    headline = document["headline"]
    table = Table(title="Served by services", title_justify="left")
    for column in ("SCOPE", "ROUTES", "ROUTE SHARE", "REQUESTS", "TRAFFIC SHARE", "BY SIDE"):
        table.add_column(column)
    rows = [("overall", headline["overall"])]
    rows += [(f"plan {name}", part) for name, part in headline["plans"].items()]
    for scope, part in rows:
        traffic = part["traffic"]
        table.add_row(
            scope,
            "unknown" if part["routes"] is None else str(part["routes"]),
            _percent(part["routes_share"]),
            "unknown" if traffic is None else str(traffic["requests"]),
            "unknown"
            if traffic is None
            else "no requests"
            if traffic["services_share"] is None
            else _percent(traffic["services_share"]),
            "unknown"
            if traffic is None
            else ", ".join(f"{side} {n}" for side, n in traffic["by_side"].items()) or "-",
        )
    console.print(table)


def _routes(document: dict[str, Any], console: Console) -> None:
    routes = document["routes"]
    if routes is None:
        console.print(f"routes: unknown ({escape(document['unknown']['routes'])})")
        return
    table = Table(title=f"Routes (proxy at {document['admin']})", title_justify="left")
    columns = ("ROUTE", "MODE", "OWNER", "WRITES", "CANARY", "FALLBACK", "REQUESTS/ERRORS")
    for column in (*columns, "FALLBACKS", "BREAKER", "HOLD"):
        table.add_column(column)
    for route in routes:
        sides = route["sides"]
        breakers = route["breakers"]
        table.add_row(
            route["name"],
            str(route["mode"]),
            str(route["owner"]),
            str(route["write_owner"]),
            f"{route['canary_percent']:g}%" if route["mode"] == "canary" else "-",
            "yes" if route["fallback"] else "no",
            "unknown"
            if sides is None
            else ", ".join(f"{s} {v['requests']}/{v['errors']}" for s, v in sides.items()) or "-",
            "unknown" if route["fallbacks"] is None else str(route["fallbacks"]),
            "unknown"
            if breakers is None
            else ", ".join(f"{u} {state}" for u, state in breakers.items()),
            _time(route["hold_until"]) if route["held"] else "-",
        )
    console.print(table)


def _plans(document: dict[str, Any], console: Console) -> None:
    if "plans" in document["unknown"]:
        console.print(f"plans: unknown ({escape(document['unknown']['plans'])})")
    for plan in document["plans"]:
        if plan.get("unknown"):
            console.print(f"plan {plan['name']}: unknown ({escape(plan['unknown'])})")
            continue
        current = plan["current_step"] or "not started"
        following = plan["next_step"] or "none (complete)"
        gate = plan["gate"]
        console.print(
            f"plan {plan['name']}: step {escape(current)}, next {escape(following)}"
            + (
                ""
                if gate is None
                else f"; gate {gate['verdict'].upper()} ({escape(gate['reason'])})"
            )
        )
        if gate is not None and gate["conditions"]:
            table = Table(title=f"Gate of {current}", title_justify="left")
            for column in ("FIGURE", "VALUE", "MAX", "COUNT", "VERDICT", "WHY"):
                table.add_column(column)
            for check in gate["conditions"]:
                table.add_row(
                    check["figure"],
                    "no data" if check["value"] is None else f"{check['value']:g}",
                    f"{check['max']:g}",
                    "-" if check["count"] is None else str(check["count"]),
                    check["verdict"],
                    escape(check["reason"]),
                )
            console.print(table)
        for error in plan["errors"]:
            console.print(f"  (could not read: {escape(error)})")


def _sync(document: dict[str, Any], console: Console) -> None:
    if not document["sync"]:
        return
    table = Table(title="Sync streams", title_justify="left")
    columns = ("PLAN", "STREAM", "STATE", "LAG", "BACKLOG", "DEAD LETTERS", "LAST RECONCILE")
    for column in columns:
        table.add_column(column)
    for stream in document["sync"]:
        state = stream["state"]
        if state is None:
            table.add_row(stream["plan"], stream["stream"], f"unknown: {escape(stream['unknown'])}")
            continue
        flow = "enabled" if state["enabled"] else "disabled"
        if state["paused_reason"]:
            flow = f"paused: {state['paused_reason']}"
        reconcile = "never"
        if state["reconcile_finished_at"] is not None:
            reconcile = f"{_time(state['reconcile_finished_at'])}, "
            diverged = state["reconcile_diverged"]
            reconcile += "in step" if diverged == 0 else f"{diverged} diverged"
        table.add_row(
            stream["plan"],
            stream["stream"],
            escape(flow),
            "no data" if state["lag_seconds"] is None else f"{state['lag_seconds']:g} s",
            "unknown" if state["backlog"] is None else str(state["backlog"]),
            "unknown" if state["dead_letters"] is None else str(state["dead_letters"]),
            reconcile,
        )
    console.print(table)


def _comparison(document: dict[str, Any], console: Console) -> None:
    part = document.get("comparison") or {}
    if part.get("routes") is None:
        reason = document["unknown"].get("comparison", "not read")
        console.print(f"comparison: unknown ({escape(reason)})")
        return
    if not part["routes"]:
        return
    table = Table(title=f"Comparison ({escape(str(part['where']))})", title_justify="left")
    for column in ("ROUTE", "DIFFERENCE RATE (95%)", "COMPARED", "NOT COMPARABLE", "TOP CLUSTER"):
        table.add_column(column)
    for route in part["routes"]:
        rate, confidence = route["difference_rate"], route["confidence"]
        shown = "-" if rate is None else f"{100 * rate:.2f}%"
        if confidence is not None:
            shown += f" ({100 * confidence['low']:.2f}-{100 * confidence['high']:.2f}%)"
        top = route["clusters"][0] if route["clusters"] else None
        table.add_row(
            route["route"],
            shown,
            str(route["compared"]),
            str(route["not_comparable"]),
            "-" if top is None else escape(f"{top['label']} x {top['count']}"),
        )
    console.print(table)


def _fleet(document: dict[str, Any], console: Console) -> None:
    fleet = document["fleet"]
    if fleet is None:
        console.print(f"fleet: unknown ({escape(document['unknown'].get('fleet', ''))})")
        return
    table = Table(
        title=f"Proxy replicas (table version {fleet['table_version']}, holds version "
        f"{fleet['holds_version']})",
        title_justify="left",
    )
    for column in ("REPLICA", "ADMIN", "TABLE", "HOLDS", "STATE"):
        table.add_column(column)
    for replica in fleet["replicas"]:
        lagging = replica.get("lagging")
        table.add_row(
            str(replica["replica"]),
            str(replica["admin_url"]),
            str(replica["table_version"]),
            str(replica["holds_version"]),
            f"LAGGING: {escape(lagging)}" if lagging else "ok",
        )
    console.print(table)


def _audit(document: dict[str, Any], console: Console) -> None:
    entries = document["audit"]
    if entries is None:
        console.print(f"audit: unknown ({escape(document['unknown'].get('audit', ''))})")
        return
    table = Table(title="Latest changes", title_justify="left")
    for column in ("AT", "WHO", "VIA", "ACTION", "SUBJECT", "BEFORE -> AFTER"):
        table.add_column(column)
    for entry in entries:
        table.add_row(
            _time(entry["at"]),
            escape(str(entry["actor"])),
            str(entry["via"]),
            str(entry["action"]),
            escape(str(entry["subject"])),
            escape(f"{_compact(entry['before'])} -> {_compact(entry['after'])}"),
        )
    console.print(table)
    if document.get("audit_problem"):
        console.print(f"audit trail DAMAGED: {escape(str(document['audit_problem']))}")


def _time(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return f"{datetime.datetime.fromtimestamp(float(epoch), datetime.UTC):%Y-%m-%d %H:%M:%S}Z"


def _compact(value: object) -> str:
    return "-" if value is None else json.dumps(value, sort_keys=True, separators=(",", ":"))
