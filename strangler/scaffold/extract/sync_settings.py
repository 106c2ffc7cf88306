"""Both sides of the sync: the service's ``STRANGLER_SYNC`` entries, and the monolith's,
merged into its settings when ``STRANGLER_SYNC`` is a plain literal, else written as
``MONOLITH_SYNC.py`` with the checklist's instructions."""

from __future__ import annotations

import ast
from pathlib import Path
from pprint import pformat
from typing import Any

from strangler.scaffold.extract.project import Extraction

__all__ = ["columns_name", "edit_monolith_settings", "monolith_snippet", "sync_entries"]


def columns_name(model: dict[str, Any]) -> str:
    return f"_{model['name'].upper()}_COLUMNS"


def sync_entries(
    x: Extraction, legacy: str
) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
    columns = "\n".join(f"{columns_name(m)} = {m['columns']!r}" for m in x.report["models"])
    outbound = [
        {"model": m["label"], "to": legacy, "fields": columns_name(m), "enabled": False}
        for m in x.report["models"]
    ]
    inbound = [
        {"from": legacy, "table": m["table"], "model": m["label"]} for m in x.report["models"]
    ] + [
        {
            "from": legacy,
            "table": m["table"],
            "model": f"{x.report['apps'][0]['label']}.{m['name']}",
        }
        for m in x.report["mirrors"]
    ]
    return columns, outbound, inbound


def monolith_snippet(x: Extraction) -> str:
    service = x.service
    lines = [
        f'"""The monolith\'s side of the sync with {service} (written by ``strangler extract``).',
        "",
        "Add these entries to the monolith's settings STRANGLER_SYNC (``strangler init`` adds",
        "the sync app itself): the peer, what goes to the service (every column of the extracted",
        "tables, and of the tables it mirrors), and what comes back after cutover.",
        '"""',
        "",
        "import os",
        "",
    ]
    for model in [*x.report["models"], *x.report["mirrors"]]:
        lines.append(f"{columns_name(model)} = {model['columns']!r}")
    peer = {
        "url": f"os.environ.get({service.upper() + '_URL'!r}, 'http://127.0.0.1:8200')",
    }
    lines += [
        "",
        f"PEER = {{{service!r}: {{'url': {peer['url']}}}}}",
        "OUTBOUND = [",
    ]
    for model in [*x.report["models"], *x.report["mirrors"]]:
        lines.append(
            f"    {{'model': {model['label']!r}, 'to': {service!r}, "
            f"'fields': {columns_name(model)}}},"
        )
    lines += ["]", "INBOUND = ["]
    for model in x.report["models"]:
        lines.append(
            f"    {{'from': {service!r}, 'table': {model['table']!r}, "
            f"'model': {model['label']!r}}},"
        )
    lines += ["]", ""]
    return "\n".join(lines)


def _monolith_entries(
    x: Extraction,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """The monolith's peer, outbound and inbound entries for the service, as values."""
    service = x.service
    peer = {service: {"url": "http://127.0.0.1:8200"}}
    outbound = [
        {"model": m["label"], "to": service, "fields": list(m["columns"])}
        for m in [*x.report["models"], *x.report["mirrors"]]
    ]
    inbound = [
        {"from": service, "table": m["table"], "model": m["label"]} for m in x.report["models"]
    ]
    return peer, outbound, inbound


def edit_monolith_settings(x: Extraction) -> None:
    """Merge the service's entries into the monolith's ``STRANGLER_SYNC`` when it is a plain
    literal (nothing computed in it); else the checklist says to merge ``MONOLITH_SYNC.py``."""
    path = Path(x.report["settings_file"]) if x.report["settings_file"] else None
    tables = ", ".join(f"`{m['table']}`" for m in x.report["models"])
    capture = (
        f"the monolith's capture migration must cover {tables} (`CaptureTable`, as the "
        "service's own `000N_sync_capture.py`)"
    )
    node = None
    if path is not None and path.is_file():
        text = path.read_text(encoding="utf-8")
        for statement in ast.parse(text).body:
            if isinstance(statement, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "STRANGLER_SYNC" for t in statement.targets
            ):
                node = statement
    current: Any = None
    if node is not None:
        try:
            current = ast.literal_eval(node.value)
        except ValueError:
            current = None
    if path is None or node is None or not isinstance(current, dict):
        x.checklist.add(
            "The monolith's side of the sync",
            "merge `MONOLITH_SYNC.py` into the monolith's `STRANGLER_SYNC` (not a plain literal, "
            "or none yet: `strangler init` adds the sync app): `peers` gets PEER, `outbound` "
            f"OUTBOUND, `inbound` INBOUND (skip what it already has); {capture}",
        )
        return
    peer, outbound, inbound = _monolith_entries(x)
    current.setdefault("peers", {})
    for name, value in peer.items():
        current["peers"].setdefault(name, value)
    have_out = {(e.get("model"), e.get("to")) for e in current.setdefault("outbound", [])}
    current["outbound"] += [e for e in outbound if (e["model"], e["to"]) not in have_out]
    have_in = {(e.get("from"), e.get("table")) for e in current.setdefault("inbound", [])}
    current["inbound"] += [e for e in inbound if (e["from"], e["table"]) not in have_in]
    lines = text.split("\n")
    lines[node.lineno - 1 : node.end_lineno] = [
        "STRANGLER_SYNC = " + pformat(current, width=96, sort_dicts=False)
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    x.checklist.add(
        "The monolith's side of the sync",
        f"`{path.name}`'s `STRANGLER_SYNC` now has the {x.service} peer (at "
        f"http://127.0.0.1:8200: set its URL) and the service's tables both ways; {capture}",
    )
