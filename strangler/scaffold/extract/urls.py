"""The generated service's ``urls.py``: the extracted apps' URL modules where the monolith
mounts them, its error views when the service could copy them, and stubs for the monolith's
URL names the copied code reverses but the service does not serve (a 404 "served by the
monolith", so that templates render)."""

from __future__ import annotations

import re

from strangler.scaffold.extract.project import Extraction, template, under_mount
from strangler.scaffold.extract.source import rename_modules

__all__ = ["urls_module"]

_BUILTIN_CONVERTERS = {"int", "str", "slug", "uuid", "path"}
_URL_IN_TEMPLATE = re.compile(r"{%\s*url\s+[\"']([^\"']+)[\"']")
_URL_IN_PYTHON = re.compile(
    r"(?:reverse|reverse_lazy|redirect|resolve_url)\(\s*[\"']([^\"'/]+)[\"']"
)
_PLACEHOLDER = re.compile(r"<(?:(\w+):)?(\w+)>")


def _reversed_names(x: Extraction) -> set[str]:
    names: set[str] = set()
    directories = [x.package]
    for directory in directories:
        for path in directory.rglob("*"):
            if path.suffix in (".html", ".txt", ".xml"):
                names.update(
                    _URL_IN_TEMPLATE.findall(path.read_text(encoding="utf-8", errors="replace"))
                )
            elif path.suffix == ".py":
                names.update(
                    _URL_IN_PYTHON.findall(path.read_text(encoding="utf-8", errors="replace"))
                )
    names.update(n for n in x.report["reversed_elsewhere"] if n and "/" not in n)
    return names


def urls_module(x: Extraction) -> str:
    served = {
        p["qualified"] for p in x.report["patterns"] if p["in_app"] and under_mount(x.report, p)
    }
    renames = x.renames()
    lines = template("urls_head.py").rstrip("\n").split("\n")
    for handler, view in sorted(x.report["handlers"].items()):
        module = view.rsplit(".", 1)[0]
        if module in renames:
            lines.append(f"{handler} = {rename_modules(view, renames)!r}")
        else:
            x.checklist.add(
                "URLs",
                f"`{handler}` is `{view}` in the monolith, which the service cannot copy "
                f"({x.report['not_portable'].get(module, 'not found')}): Django's default answers",
            )
    stubs: dict[tuple[str, ...], list[str]] = {}
    converters: dict[str, str] = {}
    missing = []
    stubbed: list[str] = []
    for name in sorted(_reversed_names(x) - served):
        matches = [p for p in x.report["patterns"] if p["qualified"] == name]
        if not matches:
            missing.append(name)
            continue
        stubbed.append(name)
        for pattern in matches:
            for kind, param in _PLACEHOLDER.findall(pattern["full"]):
                if kind and kind not in _BUILTIN_CONVERTERS and param in pattern["converters"]:
                    converters[kind] = pattern["converters"][param]
            function = "re_path" if pattern["regex"] else "path"
            stubs.setdefault(tuple(pattern["namespaces"]), []).append(
                f"{function}({pattern['full']!r}, served_by_the_monolith, name={pattern['name']!r})"
            )
    for kind, path in sorted(converters.items()):
        lines.append(f"register_converter(import_string({path!r}), {kind!r})")
    lines += ["", "", "urlpatterns: list[URLPattern | URLResolver] = ["]
    lines += [
        '    path("healthz", healthz, name="healthz"),',
        '    path("readyz", readyz, name="readyz"),',
        '    path("internal/sync/", include("strangler.sync.urls")),',
    ]
    for mount in x.report["mounts"]:
        module = rename_modules(mount["module"], renames)
        namespace = mount["namespace"]
        if namespace and namespace != mount["app_name"]:
            lines.append(
                f"    path({mount['full']!r}, include({module!r}, namespace={namespace!r})),"
            )
        else:
            lines.append(f"    path({mount['full']!r}, include({module!r})),")
        if len(mount["namespaces"]) > (1 if namespace else 0):
            x.checklist.add(
                "URLs",
                f"`{mount['module']}` is mounted under the namespaces "
                f"{':'.join(mount['namespaces'])} "
                "in the monolith, and at the root namespace here: check reverse() calls",
            )
    lines += _stub_lines(stubs, ())
    lines.append("]")
    for name in missing:
        x.checklist.add(
            "URLs", f"`{name}` is reversed by the copied code but the monolith has no such URL name"
        )
    if stubs:
        x.checklist.add(
            "URLs",
            'stubs answer 404 "served by the monolith" for '
            + ", ".join(f"`{name}`" for name in stubbed)
            + ": the proxy sends those paths to the monolith",
        )
    return "\n".join(lines) + "\n"


def _stub_lines(stubs: dict[tuple[str, ...], list[str]], prefix: tuple[str, ...]) -> list[str]:
    """Stubs under their namespaces, nested as the monolith nests them (empty prefixes: each
    stub carries its full route)."""
    lines = [f"    {entry}," for entry in stubs.get(prefix, [])]
    children = sorted(
        {ns[len(prefix)] for ns in stubs if len(ns) > len(prefix) and ns[: len(prefix)] == prefix}
    )
    for child in children:
        inner = _stub_lines(stubs, (*prefix, child))
        lines.append('    path("", include((')
        lines.append("    [")
        lines += ["    " + line for line in inner]
        lines.append(f"    ], {child!r}))),")
    return lines


# -- the contract suite ------------------------------------------------------------------------
