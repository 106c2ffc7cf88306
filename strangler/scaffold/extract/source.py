"""Copied Python source, edited by line ranges found with ``ast``: module renames, imports of
the monolith's other apps replaced by stand-ins, models pinned to the monolith's tables.

No Django here: the introspection child process already said what each model is.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Edits", "models_source", "rename_modules", "rename_python", "rewrite_imports"]


@dataclass
class Edits:
    """Line-range replacements of one file, applied bottom-up so earlier ranges stay put."""

    lines: list[str]
    changes: list[tuple[int, int, list[str]]] = field(default_factory=list)

    def replace(self, first: int, last: int, new: list[str]) -> None:
        """Replace lines ``first``..``last`` (1-based, inclusive)."""
        self.changes.append((first, last, new))

    def insert_after(self, line: int, new: list[str]) -> None:
        self.changes.append((line + 1, line, new))

    def text(self) -> str:
        lines = list(self.lines)
        for first, last, new in sorted(self.changes, key=lambda c: (c[0], c[1]), reverse=True):
            lines[first - 1 : last] = new
        return "\n".join(lines) + "\n"


def rename_modules(text: str, renames: dict[str, str]) -> str:
    """``monolith.catalog`` -> ``shop.catalog`` wherever it names a module (imports, strings)."""
    for old, new in sorted(renames.items(), key=lambda item: -len(item[0])):
        text = re.sub(rf"(?<![\w.]){re.escape(old)}(?=[.\s\"':,)]|$)", new, text, flags=re.M)
    return text


def rename_python(text: str, renames: dict[str, str]) -> str:
    """``rename_modules`` on Python source, only where a module is named: imports, and string
    literals that are a dotted path (``"monolith.catalog.apps.CatalogConfig"``); a word in a
    docstring or comment stays as it is."""
    tree = ast.parse(text)
    lines = text.split("\n")
    olds = sorted(renames, key=len, reverse=True)

    def renamed(dotted: str) -> str | None:
        for old in olds:
            if dotted == old or dotted.startswith(old + "."):
                return renames[old] + dotted[len(old) :]
        return None

    # Names that only look like a module: a URL namespace, an app label.
    not_modules: set[int] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and any(
                isinstance(t, ast.Name | ast.Attribute)
                and getattr(t, "id", getattr(t, "attr", "")) in ("app_name", "label")
                for t in node.targets
            )
        ) or (isinstance(node, ast.keyword) and node.arg in ("namespace", "app_name", "label")):
            not_modules.add(id(node.value))
    edits: list[tuple[int, int, int, str]] = []  # line, start column, end column, new text
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            new = renamed(node.module)
            if new is not None:
                line = lines[node.lineno - 1]
                start = line.index(node.module, node.col_offset)
                edits.append((node.lineno, start, start + len(node.module), new))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                new = renamed(alias.name)
                if new is not None and alias.lineno == alias.end_lineno:
                    start = alias.col_offset
                    edits.append((alias.lineno, start, start + len(alias.name), new))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in not_modules
        ):
            new = renamed(node.value)
            if (
                new is not None
                and node.lineno == node.end_lineno
                and re.fullmatch(r"[\w.]+", node.value)
            ):
                line = lines[node.lineno - 1]
                start = line.index(node.value, node.col_offset)
                edits.append((node.lineno, start, start + len(node.value), new))
    for lineno, start, end, new in sorted(edits, reverse=True):
        line = lines[lineno - 1]
        lines[lineno - 1] = line[:start] + new + line[end:]
    return "\n".join(lines)


def rewrite_imports(
    text: str, *, roots: tuple[str, ...], kept: tuple[str, ...], service: str
) -> tuple[str, list[str]]:
    """Imports of the monolith's modules outside the extracted apps become stand-ins
    (``<service>.not_extracted.missing``); returns the new text and what was replaced."""
    tree = ast.parse(text)
    edits = Edits(text.split("\n"))
    replaced: list[str] = []
    unsplit: list[str] = []  # ``import a, b``: left as it is, listed for a hand edit

    def outside(module: str) -> bool:
        inside_root = any(module == root or module.startswith(root + ".") for root in roots)
        return inside_root and not any(module == k or module.startswith(k + ".") for k in kept)

    for node in ast.walk(tree):
        bound: list[tuple[str, str]] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if outside(node.module):
                bound = [(a.asname or a.name, f"{node.module}.{a.name}") for a in node.names]
        elif isinstance(node, ast.Import) and any(outside(a.name) for a in node.names):
            if len(node.names) > 1:
                unsplit.append(ast.unparse(node))
                continue
            alias = node.names[0]
            bound = [(alias.asname or alias.name.split(".")[0], alias.name)]
        if not bound or not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        indent = edits.lines[node.lineno - 1][: node.col_offset]
        new = [f"{indent}from {service}.not_extracted import missing  # EXTRACT_CHECKLIST.md"]
        new += [f"{indent}{name} = missing({origin!r})" for name, origin in bound]
        edits.replace(node.lineno, node.end_lineno or node.lineno, new)
        replaced += [origin for _, origin in bound]
    replaced += [
        f"{statement} (several modules in one import: split it by hand)" for statement in unsplit
    ]
    return edits.text() if edits.changes else text, replaced


def _is_model_class(node: ast.ClassDef) -> bool:
    return any("Model" in ast.unparse(base) for base in node.bases)


def models_source(
    text: str,
    models: dict[str, dict[str, Any]],
    *,
    drop: set[str],
    mirrors: list[dict[str, Any]],
    origin: str = "",
    service: str = "",
) -> str:
    """models.py with every extracted model's ``db_table`` set to the monolith's table, the
    model classes not extracted removed, foreign keys leaving the set turned into plain
    columns (same column name), and the read-only mirrors appended."""
    tree = ast.parse(text)
    edits = Edits(text.rstrip("\n").split("\n"))
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        if node.name in drop:
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            edits.replace(first, node.end_lineno or node.lineno, [])
            continue
        record = models.get(node.name)
        if record is None or not _is_model_class(node):
            continue
        leaving = {item["field"]: item["replacement"] for item in record["leaving"]}
        meta = None
        for statement in node.body:
            if isinstance(statement, ast.ClassDef) and statement.name == "Meta":
                meta = statement
            if isinstance(statement, ast.Assign | ast.AnnAssign):
                targets = (
                    statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                )
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                if names and names[0] in leaving:
                    indent = " " * statement.col_offset
                    edits.replace(
                        statement.lineno,
                        statement.end_lineno or statement.lineno,
                        [
                            f"{indent}# The monolith's foreign key to {_target(record, names[0])}, "
                            "a model this service does not have: the same column, no constraint.",
                            indent + leaving[names[0]],
                        ],
                    )
        table_line = f'db_table = "{record["table"]}"'
        if meta is not None:
            indent = " " * meta.body[0].col_offset
            edits.insert_after(meta.lineno, [indent + table_line])
        else:
            indent = " " * node.body[0].col_offset
            edits.insert_after(
                node.end_lineno or node.lineno,
                ["", f"{indent}class Meta:", f"{indent}    {table_line}"],
            )
    extra: list[str] = []
    for mirror in mirrors:
        extra += [
            "",
            "",
            f"class {mirror['name']}(models.Model):",
            f'    """The monolith\'s ``{mirror["table"]}`` ({mirror["label"]}), a read-only '
            "mirror the",
            "    sync keeps up to date: the copied code reads it through "
            f"{', '.join(repr(n) for n in mirror['used_as'])}."
            '"""',
            "",
            mirror["source"],
            "",
            "    class Meta:",
            f'        db_table = "{mirror["table"]}"',
        ]
    if drop:
        extra += [
            "",
            f"from {service}.not_extracted import missing  # noqa: E402 - EXTRACT_CHECKLIST.md",
            "",
        ]
        extra += [f"{name} = missing({origin + '.' + name!r})" for name in sorted(drop)]
    text = edits.text()
    if extra:
        if not re.search(r"^from django\.db import models", text, re.M):
            extra.insert(0, "from django.db import models")
        text = text.rstrip("\n") + "\n" + "\n".join(extra) + "\n"
    return text


def _target(record: dict[str, Any], name: str) -> str:
    return str(next(item["target"] for item in record["leaving"] if item["field"] == name))
