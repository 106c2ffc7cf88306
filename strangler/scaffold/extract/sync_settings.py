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
    """Merge the service's entries into the monolith's ``STRANGLER_SYNC``: its ``peers``,
    ``outbound`` and ``inbound`` entries are edited in place when each is a plain literal
    (the rest of the dict, the secrets ``strangler init`` reads from the environment, may be
    any expression and stays as written); else the checklist says to merge
    ``MONOLITH_SYNC.py``."""
    path = Path(x.report["settings_file"]) if x.report["settings_file"] else None
    text = path.read_text(encoding="utf-8") if path is not None and path.is_file() else ""
    edits = _entry_edits(x, text) if text else None
    if path is None or edits is None:
        x.checklist.add(
            "The monolith's side of the sync",
            "merge `MONOLITH_SYNC.py` into the monolith's `STRANGLER_SYNC` (its `peers`, "
            "`outbound` or `inbound` is not a plain literal, or there is no `STRANGLER_SYNC` "
            "yet: `strangler init` adds it): `peers` gets PEER, `outbound` OUTBOUND, "
            "`inbound` INBOUND (skip what it already has)",
        )
        return
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line.encode("utf-8")))
    data = text.encode("utf-8")
    for node, replacement in sorted(edits, key=lambda e: e[0].lineno, reverse=True):
        begin = starts[node.lineno - 1] + node.col_offset
        end = starts[node.end_lineno - 1] + node.end_col_offset  # type: ignore[operator]
        data = data[:begin] + replacement.encode("utf-8") + data[end:]
    path.write_text(data.decode("utf-8"), encoding="utf-8")
    x.checklist.add(
        "The monolith's side of the sync",
        f"`{path.name}`'s `STRANGLER_SYNC` now has the {x.service} peer (at "
        f"{_peer_url_words(x, text)}) and the service's tables both ways",
    )


def _sync_dict(text: str) -> ast.Dict | None:
    found = None
    for statement in ast.parse(text).body:
        if isinstance(statement, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "STRANGLER_SYNC" for t in statement.targets
        ):
            found = statement.value
    return found if isinstance(found, ast.Dict) else None


def _imports_os(text: str) -> bool:
    return any(
        isinstance(s, ast.Import) and any(a.name == "os" and a.asname is None for a in s.names)
        for s in ast.parse(text).body
    )


def _peer_url(x: Extraction, text: str) -> str:
    """The service's URL as Python source: from ``<SERVICE>_URL``, else its port variable
    (the route table's), when the settings import ``os``; else the default, literally."""
    variable = x.service.upper()
    if _imports_os(text):
        return (
            f'os.environ.get("{variable}_URL", "http://127.0.0.1:" '
            f'+ os.environ.get("{variable}_PORT", "8200"))'
        )
    return repr("http://127.0.0.1:8200")


def _peer_url_words(x: Extraction, text: str) -> str:
    variable = x.service.upper()
    if _imports_os(text):
        return f"${variable}_URL, else http://127.0.0.1:${variable}_PORT (8200 unset)"
    return "http://127.0.0.1:8200: set its URL"


def _entry_edits(x: Extraction, text: str) -> list[tuple[ast.expr, str]] | None:
    """The source replacements for ``peers``, ``outbound`` and ``inbound`` (each a missing
    key is added to), or None when one of them is not a plain literal."""
    sync = _sync_dict(text)
    if sync is None:
        return None
    values: dict[str, ast.expr] = {}
    for key, value in zip(sync.keys, sync.values, strict=True):
        if isinstance(key, ast.Constant) and key.value in ("peers", "outbound", "inbound"):
            values[key.value] = value
    if set(values) != {"peers", "outbound", "inbound"}:
        return None
    try:
        current = {name: ast.literal_eval(node) for name, node in values.items()}
    except ValueError:
        return None
    peers, outbound, inbound = current["peers"], current["outbound"], current["inbound"]
    if not (isinstance(peers, dict) and isinstance(outbound, list) and isinstance(inbound, list)):
        return None
    _, new_outbound, new_inbound = _monolith_entries(x)
    have_out = {(e.get("model"), e.get("to")) for e in outbound if isinstance(e, dict)}
    outbound += [e for e in new_outbound if (e["model"], e["to"]) not in have_out]
    have_in = {(e.get("from"), e.get("table")) for e in inbound if isinstance(e, dict)}
    inbound += [e for e in new_inbound if (e["from"], e["table"]) not in have_in]
    lines = text.splitlines()
    edits: list[tuple[ast.expr, str]] = []
    if x.service not in peers:
        node = values["peers"]
        items = [f"{peer!r}: {spec!r}" for peer, spec in peers.items()]
        items.append(f"{x.service!r}: {{'url': {_peer_url(x, text)}}}")
        edits.append((node, _block("{", items, "}", _indent(lines[node.lineno - 1]))))
    for name, entries in (("outbound", outbound), ("inbound", inbound)):
        node = values[name]
        indent = _indent(lines[node.lineno - 1])
        items = [
            pformat(e, width=96 - len(indent), sort_dicts=False).replace(
                "\n", "\n" + indent + "    "
            )
            for e in entries
        ]
        edits.append((node, _block("[", items, "]", indent)))
    return edits


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _block(opening: str, items: list[str], closing: str, indent: str) -> str:
    """A bracketed literal, one element a line (the layout of the dict it sits in)."""
    if not items:
        return opening + closing
    body = "".join(f"\n{indent}    {item}," for item in items)
    return f"{opening}{body}\n{indent}{closing}"
