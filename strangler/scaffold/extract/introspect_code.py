"""The code half of the introspection (in the child process): templates the app renders,
context processors, receivers and tasks, settings read, and which of the monolith's other
modules the service can copy as they are."""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import sys
import sysconfig
from collections.abc import Iterable
from pathlib import Path
from typing import Any

_TEMPLATE_REFERENCE = re.compile(r"{%\s*(?:extends|include)\s+[\"']([^\"']+)[\"']")

__all__ = [
    "context_processors",
    "imported_modules",
    "module_file",
    "portable_modules",
    "project_modules",
    "receivers_and_tasks",
    "rendered_templates",
    "settings_read",
    "template_closure",
]


def template_closure(
    app_dirs: list[Path], seeds: list[str]
) -> tuple[list[dict[str, str]], list[str]]:
    """Templates outside the app that the app's templates extend or include, transitively,
    and the ``seeds`` (templates the copied modules of other apps render) with theirs."""
    from django.template import TemplateDoesNotExist
    from django.template.loader import get_template

    pending: list[str] = list(seeds)
    for directory in app_dirs:
        for path in directory.rglob("templates/**/*"):
            if path.is_file():
                pending.extend(_TEMPLATE_REFERENCE.findall(path.read_text(errors="replace")))
    seen: set[str] = set()
    found, missing = [], []
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            found_template: Any = get_template(name)
            origin = Path(found_template.origin.name)
        except TemplateDoesNotExist:
            missing.append(name)
            continue
        if any(d in origin.parents for d in app_dirs):
            continue
        found.append({"name": name, "path": str(origin)})
        pending.extend(_TEMPLATE_REFERENCE.findall(origin.read_text(errors="replace")))
    return found, missing


def context_processors() -> list[dict[str, Any]]:
    """Each context processor with what it answers an anonymous GET / (JSON values only)."""
    from django.conf import settings
    from django.test import RequestFactory

    try:
        from django.contrib.auth.models import AnonymousUser
    except RuntimeError:  # a project without django.contrib.auth: no user to give

        class AnonymousUser:  # type: ignore[no-redef]
            is_authenticated = False
            is_anonymous = True

    from django.utils.module_loading import import_string

    found = []
    engines: list[Any] = list(settings.TEMPLATES)
    for engine in engines:
        for path in engine.get("OPTIONS", {}).get("context_processors", []):
            record: dict[str, Any] = {"path": path, "anonymous": None}
            if not path.startswith("django."):
                try:
                    request = RequestFactory().get("/")
                    request.user = AnonymousUser()
                    answer = dict(import_string(path)(request))
                    json.dumps(answer)
                    record["anonymous"] = answer
                except Exception as exc:  # a processor needing more than an anonymous request
                    record["error"] = f"{type(exc).__name__}: {exc}"
            found.append(record)
    return found


def receivers_and_tasks(app_dirs: list[Path]) -> tuple[list[str], list[str]]:
    receivers, tasks = [], []
    for directory in app_dirs:
        for path in sorted(directory.rglob("*.py")):
            if "migrations" in path.parts:
                continue
            text = path.read_text(errors="replace")
            relative = path.relative_to(directory.parent)
            try:
                tree = ast.parse(text)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    for decorator in node.decorator_list:
                        source = ast.unparse(decorator)
                        if "receiver" in source:
                            receivers.append(f"{relative}:{node.lineno} {node.name} ({source})")
                        if "task" in source.split("(")[0]:
                            tasks.append(f"{relative}:{node.lineno} {node.name} ({source})")
                elif isinstance(node, ast.Call) and ast.unparse(node.func).endswith(".connect"):
                    receivers.append(f"{relative}:{node.lineno} {ast.unparse(node)[:100]}")
    return receivers, tasks


def settings_read(app_dirs: list[Path]) -> list[str]:
    names: set[str] = set()
    for directory in app_dirs:
        for path in directory.rglob("*.py"):
            names.update(
                re.findall(r"settings\.([A-Z][A-Z0-9_]+)", path.read_text(errors="replace"))
            )
    return sorted(names)


def project_modules(root_package: str) -> list[str]:
    """The top-level modules of the monolith's own apps (those under the directory it runs
    in) and of its settings: what the service cannot import."""
    from django.apps import apps

    here = Path.cwd().resolve()
    installed = {Path(p).resolve() for p in (sys.prefix, *sysconfig.get_paths().values())}
    found = {root_package}
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        top = config.name.split(".")[0]
        if top == "strangler" or any(p == path or p in path.parents for p in installed):
            continue  # the toolkit, or a package installed in the environment
        if here in path.parents:
            found.add(top)
    return sorted(found)


def imported_modules(tree: ast.AST) -> set[str]:
    """Absolute module names a module imports (``from a.b import c`` may name module
    ``a.b.c``: both are returned, the caller keeps what exists)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def module_file(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def portable_modules(
    app_dirs: list[Path], app_modules: list[str], roots: list[str], settings_paths: list[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """Modules of the monolith outside the extracted apps that the apps' code (or a setting
    the service keeps) imports, split into those the service can copy as they are (no model,
    nothing but portable modules, extracted apps and installed packages imported) and the
    rest, with the reason."""

    def project(name: str) -> bool:
        return name.split(".")[0] in roots and not any(
            name == a or name.startswith(a + ".") for a in app_modules
        )

    pending: set[str] = {p for p in settings_paths if project(p)}
    for directory in app_dirs:
        for path in directory.rglob("*.py"):
            if "migrations" not in path.parts:
                pending.update(
                    m for m in imported_modules(ast.parse(path.read_text())) if project(m)
                )
    verdicts: dict[str, str | None] = {}  # module: None when portable, else the reason

    def judge(name: str, trail: tuple[str, ...]) -> str | None:
        if name in verdicts:
            return verdicts[name]
        if name in trail:
            return None
        path = module_file(name)
        if path is None:
            return "not a module file"
        if path.name == "models.py" or path.name == "__init__.py":
            verdicts[name] = "models, or a package's __init__"
            return verdicts[name]
        tree = ast.parse(path.read_text())
        reason = None
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(
                ast.unparse(b).split(".")[-1] == "Model" for b in node.bases
            ):
                reason = f"defines the model {node.name}"
                break
        if reason is None:
            for imported in sorted(imported_modules(tree)):
                if project(imported) and module_file(imported) is not None:
                    inner = judge(imported, (*trail, name))
                    if inner is not None:
                        reason = f"imports {imported} ({inner})"
                        break
        verdicts[name] = reason
        return reason

    for name in sorted(pending):
        if module_file(name) is not None:
            judge(name, ())
    portable = {n: str(module_file(n)) for n, reason in verdicts.items() if reason is None}
    refused = {n: reason for n, reason in verdicts.items() if reason is not None}
    return portable, refused


def rendered_templates(files: Iterable[str]) -> list[str]:
    """Template names a module's string literals give (``render(request, "404.html")``)."""
    names = []
    for file in files:
        for node in ast.walk(ast.parse(Path(file).read_text())):
            value = node.value if isinstance(node, ast.Constant) else None
            if isinstance(value, str) and re.fullmatch(r"[\w./-]+\.(html|txt|xml)", value):
                names.append(value)
    return names
