"""The monolith's root URLconf as ``strangler init`` leaves it (``monolith/urls.py``): the
health views and the internal endpoints the proxy and the services call, first in
``urlpatterns`` so that no catch-all pattern of the project answers them instead."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from strangler.scaffold.init_items import Item, Status
from strangler.scaffold.init_source import Edit, SourceFile, prepend_lines

__all__ = ["urls_items"]


@dataclass(frozen=True)
class _Pattern:
    what: str
    route: str
    element: str
    needs: tuple[str, ...]  # the names ``element`` uses


_PATTERNS = (
    _Pattern(
        "URL healthz", "healthz", 'path("healthz", healthz, name="healthz")', ("path", "healthz")
    ),
    _Pattern("URL readyz", "readyz", 'path("readyz", readyz, name="readyz")', ("path", "readyz")),
    _Pattern(
        "URL internal/identity/",
        "strangler.contrib.identity.urls",
        'path("internal/identity/", include("strangler.contrib.identity.urls"))',
        ("path", "include"),
    ),
    _Pattern(
        "URL internal/sync/",
        "strangler.sync.urls",
        'path("internal/sync/", include("strangler.sync.urls"))',
        ("path", "include"),
    ),
)
_SOURCES = {
    "path": ("django.urls", "path"),
    "include": ("django.urls", "include"),
    "healthz": ("strangler.servicekit.health", "healthz"),
    "readyz": ("strangler.servicekit.health", "readyz"),
}


def urls_items(urls: SourceFile, *, refusal: str = "") -> list[Item]:
    """What the URLconf needs; ``refusal`` (empty when ``urls`` may be edited) says why not."""
    quote = urls.quote()
    present = _routes(urls)
    missing = [pattern for pattern in _PATTERNS if pattern.route not in present]
    items = [
        Item(what=pattern.what, relative=urls.relative, status=Status.PRESENT)
        for pattern in _PATTERNS
        if pattern.route in present
    ]
    if not missing:
        return items
    elements = [_quoted(pattern.element, quote) for pattern in missing]
    needed = sorted({name for pattern in missing for name in pattern.needs})
    literal = None if refusal else urls.literal_list("urlpatterns")
    edits = prepend_lines(urls, literal, elements) if literal is not None else []
    if not edits:
        imports = _import_lines(urls, needed)
        bindings = urls.assignments("urlpatterns")
        reason = refusal or (
            "urlpatterns is not one list written one element a line"
            if bindings
            else "urlpatterns is not set in this file"
        )
        how = f"{reason}; add first in urlpatterns: {', '.join(elements)}" + (
            f"; import {'; '.join(imports)}" if imports else ""
        )
        line = bindings[0].lineno if bindings else None
        return items + [
            Item(what=pattern.what, relative=urls.relative, status=Status.HAND, line=line, how=how)
            for pattern in missing
        ]
    edits += _import_edits(urls, needed)
    first, *rest = missing
    items.append(
        Item(what=first.what, relative=urls.relative, status=Status.ADD, edits=tuple(edits))
    )
    items += [
        Item(what=pattern.what, relative=urls.relative, status=Status.ADD) for pattern in rest
    ]
    return items


def _routes(urls: SourceFile) -> set[str]:
    """The routes and included URLconfs the file names: a call's first string argument
    (``path("healthz", ...)``, ``include("strangler.sync.urls")``), slashes stripped."""
    found = set()
    for node in ast.walk(urls.tree):
        if isinstance(node, ast.Call) and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.add(first.value.strip("/^$"))
    return found


def _import_lines(urls: SourceFile, needed: list[str]) -> list[str]:
    imported = urls.imported_names()
    modules: dict[str, list[str]] = {}
    for name in needed:
        module, attribute = _SOURCES[name]
        if imported.get(name) != f"{module}.{attribute}":
            modules.setdefault(module, []).append(attribute)
    return [f"from {module} import {', '.join(names)}" for module, names in sorted(modules.items())]


def _import_edits(urls: SourceFile, needed: list[str]) -> list[Edit]:
    """Imports for ``needed``: a one-line ``from django.urls import path`` gains ``include``
    in place; anything else goes on a line of its own after the module's imports."""
    edits = []
    lines = []
    for line in _import_lines(urls, needed):
        module, _, names = line.removeprefix("from ").partition(" import ")
        existing = _one_line_import(urls, module)
        if existing is None:
            lines.append(line)
            continue
        merged = sorted({alias.name for alias in existing.names} | set(names.split(", ")))
        edits.append(
            Edit(
                urls.start(existing),
                urls.end(existing),
                f"from {module} import {', '.join(merged)}",
            )
        )
    if lines:
        at = urls.import_line()
        edits.append(Edit((at, 0), (at, 0), "".join(f"{line}\n" for line in lines)))
    return edits


def _one_line_import(urls: SourceFile, module: str) -> ast.ImportFrom | None:
    for statement in urls.tree.body:
        if (
            isinstance(statement, ast.ImportFrom)
            and statement.module == module
            and statement.level == 0
            and statement.lineno == statement.end_lineno
            and all(alias.asname is None and alias.name != "*" for alias in statement.names)
        ):
            return statement
    return None


def _quoted(text: str, quote: str) -> str:
    return text if quote == '"' else text.replace('"', quote)
