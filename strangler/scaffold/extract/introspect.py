"""``python -m strangler.scaffold.extract.introspect --app APP [--models app.Model,...]``: what
``strangler extract`` needs to know about the monolith, as JSON on stdout.

Run with the monolith's ``DJANGO_SETTINGS_MODULE`` in a process of its own (the CLI never
imports a team's project, as for ``strangler.urlconf.export``). It reads, through Django
itself: the apps and their directories, the extracted models (table, key, columns, foreign
keys leaving the set), models of other apps whose relation to an extracted model the app's
code uses (mirrored read-only), every named URL pattern with its full route, where the app's
URL modules are mounted, the templates the app's templates extend or include, what each
context processor answers an anonymous request, middleware, authentication backends, signal
receivers and Celery tasks defined in the app, and keys of the rows for contract tests.

Exit status: 0 printed; 2 the input names something the project lacks, or the project
cannot be loaded (the reason on stderr).
"""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
import json
import re
import sys
import sysconfig
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, cast

_CANNOT_RUN = 2
_TEMPLATE_REFERENCE = re.compile(r"{%\s*(?:extends|include)\s+[\"']([^\"']+)[\"']")


class _Refused(Exception):
    """Input naming something the project lacks: a message for the user, exit 2."""


def _setup() -> None:
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except (ImproperlyConfigured, ImportError) as exc:
        raise _Refused(f"the monolith's settings cannot be loaded: {exc}") from exc


def _app_configs(names: Sequence[str]) -> list[Any]:
    from django.apps import apps

    found = []
    for name in names:
        match = [c for c in apps.get_app_configs() if name in (c.label, c.name)]
        if not match:
            known = ", ".join(sorted(c.label for c in apps.get_app_configs()))
            raise _Refused(f"no installed app {name!r} in the monolith (its apps: {known})")
        found.append(match[0])
    return found


def _models(app_configs: list[Any], wanted: Sequence[str]) -> list[Any]:
    from django.apps import apps

    labels = {c.label for c in app_configs}
    if not wanted:
        return [m for c in app_configs for m in c.get_models() if not m._meta.proxy]
    chosen = []
    for label in wanted:
        try:
            model = apps.get_model(label)
        except (LookupError, ValueError) as exc:
            raise _Refused(
                f"no model {label!r} in the monolith (write app_label.ModelName)"
            ) from exc
        if model._meta.app_label not in labels:
            raise _Refused(
                f"model {label!r} is not in the extracted app(s) {', '.join(sorted(labels))}: "
                "add its app with --app"
            )
        chosen.append(model)
    return chosen


def _field_source(field: Any, extracted: set[str], app_label: str) -> str:
    """A field as a line of a read-only mirror model: deconstructed, defaults and
    validators dropped (the sync writes every value), relations to extracted models kept
    without a database constraint, relations leaving the set turned into plain columns."""
    from django.db import models

    name, path, args, kwargs = field.deconstruct()
    for dropped in ("default", "validators", "auto_now", "auto_now_add", "help_text"):
        kwargs.pop(dropped, None)
    if field.is_relation and field.remote_field is not None:
        target = field.related_model._meta.label
        if target in extracted:
            kind = "OneToOneField" if field.one_to_one else "ForeignKey"
            keep = {k: kwargs[k] for k in ("null", "blank", "related_name") if k in kwargs}
            if field.primary_key:
                keep["primary_key"] = True
            arguments = ", ".join(
                [repr(target), "on_delete=models.DO_NOTHING", "db_constraint=False"]
                + [f"{k}={v!r}" for k, v in keep.items()]
            )
            return f"{name} = models.{kind}({arguments})"
        return _plain_column(field)
    if not path.startswith("django.db.models"):
        path = f"models.{type(field).__name__}"
        if not hasattr(models, type(field).__name__):
            raise _Refused(f"{field.model._meta.label}.{name}: a custom field type {path}")
    else:
        path = "models." + path.rsplit(".", 1)[1]
    rendered = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{name} = {path}({', '.join(rendered)})"


def _plain_column(field: Any) -> str:
    """A foreign key as a plain column of the target key's type, same column name."""
    target_pk = field.target_field
    kind = type(target_pk).__name__
    kind = {
        "AutoField": "IntegerField",
        "BigAutoField": "BigIntegerField",
        "SmallAutoField": "SmallIntegerField",
    }.get(kind, kind)
    extra = []
    if kind in ("CharField", "SlugField") and target_pk.max_length:
        extra.append(f"max_length={target_pk.max_length}")
    if field.null:
        extra.append("null=True")
    if field.primary_key:
        extra.append("primary_key=True")
    elif field.unique:
        extra.append("unique=True")
    elif field.db_index:
        extra.append("db_index=True")
    extra.append(f"db_column={field.column!r}")
    return f"{field.attname} = models.{kind}({', '.join(extra)})"


def _columns(model: Any) -> list[str]:
    return [f.column for f in model._meta.concrete_fields]


def _model_record(model: Any, extracted: set[str]) -> dict[str, Any]:
    meta = model._meta
    leaving = []
    for field in meta.concrete_fields:
        if field.is_relation and field.related_model._meta.label not in extracted:
            leaving.append(
                {
                    "field": field.name,
                    "column": field.column,
                    "target": field.related_model._meta.label,
                    "replacement": _plain_column(field),
                }
            )
    pk = meta.pk
    return {
        "label": meta.label,
        "app": meta.app_label,
        "name": meta.object_name,
        "table": meta.db_table,
        "pk": pk.column,
        "pk_type": type(pk).__name__,
        "columns": _columns(model),
        "leaving": leaving,
        "fields": {f.name: f.column for f in meta.concrete_fields},
        "types": {f.name: f.get_internal_type() for f in meta.concrete_fields},
    }


_LOOKUP = re.compile(r"^-?[a-z_][a-z0-9_]*(__[a-z0-9_]+)*$")
_TEMPLATE_CODE = re.compile(r"{{(.*?)}}|{%(.*?)%}", re.S)


def _code_names(directories: list[Path]) -> set[str]:
    """The names the app's code and templates use: attributes, keywords, lookups in strings
    (``"stock__on_hand"``), variables in templates; not words in comments or docstrings."""
    names: set[str] = set()
    for directory in directories:
        for path in sorted(directory.rglob("*")):
            if "migrations" in path.parts or not path.is_file():
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            if path.suffix == ".py":
                try:
                    tree = ast.parse(text)
                except SyntaxError:
                    continue
                for node in ast.walk(tree):
                    if isinstance(node, ast.Attribute):
                        names.add(node.attr)
                    elif isinstance(node, ast.keyword) and node.arg:
                        names.update(node.arg.split("__"))
                    elif isinstance(node, ast.Constant) and _LOOKUP.match(str(node.value)):
                        names.update(str(node.value).lstrip("-").split("__"))
            elif path.suffix in (".html", ".txt", ".xml"):
                for match in _TEMPLATE_CODE.finditer(text):
                    names.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", "".join(match.groups(""))))
    return names


def _mirrors(models_: list[Any], code: set[str]) -> list[dict[str, Any]]:
    """Models of other apps with a relation to an extracted model that the app's code uses
    (``product.stock``, ``select_related("stock")``, ``stock__on_hand``)."""
    from django.apps import apps

    extracted = {m._meta.label for m in models_}
    found = []
    for model in apps.get_models():
        if model._meta.label in extracted or model._meta.proxy:
            continue
        fields: list[Any] = list(model._meta.concrete_fields)
        for field in fields:
            if not field.is_relation or field.related_model._meta.label not in extracted:
                continue
            names = {field.related_query_name(), field.remote_field.get_accessor_name()}
            used = sorted(n for n in names if n and not n.endswith("+") and n in code)
            if used:
                source = "\n".join(
                    "    " + _field_source(f, extracted, model._meta.app_label)
                    for f in model._meta.concrete_fields
                    if not (f.auto_created and f.primary_key and f.name == "id")
                )
                record = _model_record(model, extracted)
                record["used_as"] = used
                record["through"] = field.related_model._meta.label
                record["source"] = source
                found.append(record)
                break
    return found


def _pattern_text(pattern: Any) -> tuple[str, bool]:
    from django.urls.resolvers import LocalePrefixPattern, RoutePattern

    # str() of a RoutePattern is its route, of a RegexPattern its regex.
    if isinstance(pattern, RoutePattern):
        return str(pattern), False
    if isinstance(pattern, LocalePrefixPattern):
        return "", False
    return str(pattern), True


def _walk(
    patterns: list[Any], route: list[tuple[str, bool]], namespaces: list[str]
) -> Iterator[dict[str, Any]]:
    from django.urls import URLPattern, URLResolver

    for entry in patterns:
        piece = _pattern_text(entry.pattern)
        if isinstance(entry, URLResolver):
            module = entry.urlconf_name
            module_name = module if isinstance(module, str) else getattr(module, "__name__", "")
            yield {
                "kind": "mount",
                "route": [*route, piece],
                "namespaces": [*namespaces, entry.namespace] if entry.namespace else namespaces,
                "module": module_name,
                "namespace": entry.namespace,
                "app_name": entry.app_name,
            }
            yield from _walk(
                entry.url_patterns,
                [*route, piece],
                [*namespaces, entry.namespace] if entry.namespace else namespaces,
            )
        elif isinstance(entry, URLPattern):
            callback = entry.callback
            view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
            model = None
            if view_class is not None:
                queryset = getattr(view_class, "queryset", None)
                if queryset is not None:
                    model = queryset.model._meta.label
            converters = {}
            for name, converter in getattr(entry.pattern, "converters", {}).items():
                kind = type(converter)
                converters[name] = f"{kind.__module__}.{kind.__qualname__}"
            yield {
                "kind": "pattern",
                "route": [*route, piece],
                "namespaces": namespaces,
                "name": entry.name,
                "view": f"{callback.__module__}."
                f"{getattr(callback, '__qualname__', type(callback).__name__)}",
                "view_module": callback.__module__,
                "view_class_module": view_class.__module__ if view_class else None,
                "model": model,
                "converters": converters,
                "methods": sorted(m.upper() for m in getattr(callback, "actions", {}) or {}),
            }


def _full(route: list[tuple[str, bool]]) -> tuple[str, bool]:
    regex = any(is_regex for _, is_regex in route)
    if not regex:
        return "".join(text for text, _ in route), False
    parts = []
    for text, is_regex in route:
        if not is_regex:
            parts.append(re.escape(text))
        else:
            parts.append(text.removeprefix("^").removesuffix("\\Z").removesuffix("$"))
    return "^" + "".join(parts) + "$", True


def _urls(app_modules: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from django.urls import get_resolver

    def inside(module: str | None) -> bool:
        return bool(module) and any(
            module == m or str(module).startswith(m + ".") for m in app_modules
        )

    from strangler.urlconf.export import patterns as exported

    translations = iter(exported(None))
    patterns, mounts = [], []
    for item in _walk(get_resolver().url_patterns, [], []):
        full, regex = _full(item["route"])
        item["full"], item["regex"] = full, regex
        del item["route"]
        if item["kind"] == "mount":
            if inside(item["module"]):
                mounts.append(item)
            continue
        name = item["name"]
        item["qualified"] = ":".join([*item["namespaces"], name]) if name else None
        item["in_app"] = inside(item["view_module"]) or inside(item["view_class_module"])
        translation = next(translations, None)
        item["proxy"] = (
            {
                "kind": translation.kind,
                "pattern": translation.pattern,
                "exactness": translation.exactness,
            }
            if translation is not None
            else None
        )
        patterns.append(item)
    # A mount inside another extracted mount comes with it.
    outer = [
        m
        for m in mounts
        if not any(
            o is not m and m["full"].startswith(o["full"]) and m["module"].startswith(o["module"])
            for o in mounts
        )
    ]
    return patterns, outer


def _template_closure(
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


def _context_processors() -> list[dict[str, Any]]:
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


def _receivers_and_tasks(app_dirs: list[Path]) -> tuple[list[str], list[str]]:
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


def _settings_read(app_dirs: list[Path]) -> list[str]:
    names: set[str] = set()
    for directory in app_dirs:
        for path in directory.rglob("*.py"):
            names.update(
                re.findall(r"settings\.([A-Z][A-Z0-9_]+)", path.read_text(errors="replace"))
            )
    return sorted(names)


def _samples(models_: list[Any]) -> dict[str, dict[str, list[Any]]]:
    """A few values of each key-like column of each model (for the contract tests' paths)."""
    samples: dict[str, dict[str, list[Any]]] = {}
    for model in models_:
        fields = [f for f in model._meta.concrete_fields if f.primary_key or f.unique]
        rows = {}
        for field in fields:
            try:
                values = list(model._default_manager.values_list(field.attname, flat=True)[:3])
            except Exception:  # an unmigrated database: no samples, the tests read them later
                values = []
            rows[field.name] = [str(v) for v in values]
        samples[model._meta.label] = rows
    return samples


def introspect(app_names: Sequence[str], model_labels: Sequence[str]) -> dict[str, Any]:
    _setup()
    from django.conf import settings

    app_configs = _app_configs(app_names)
    models_ = _models(app_configs, model_labels)
    extracted = {m._meta.label for m in models_}
    app_dirs = [Path(c.path) for c in app_configs]
    code = _code_names(app_dirs)
    patterns, mounts = _urls([c.name for c in app_configs])
    receivers, tasks = _receivers_and_tasks(app_dirs)
    root_package = settings.SETTINGS_MODULE.split(".")[0]
    roots = _project_modules(root_package)
    rest: dict[str, Any] = dict(getattr(settings, "REST_FRAMEWORK", {}))
    setting_paths = [
        v.rsplit(".", 1)[0]
        for value in rest.values()
        for v in (value if isinstance(value, list | tuple) else [value])
        if isinstance(v, str) and "." in v
    ]
    handlers = _handlers()
    setting_paths += [path.rsplit(".", 1)[0] for path in handlers.values()]
    portable, refused = _portable(app_dirs, [c.name for c in app_configs], roots, setting_paths)
    templates, missing_templates = _template_closure(app_dirs, _rendered(portable.values()))
    return {
        "settings_file": str(_module_file(settings.SETTINGS_MODULE) or ""),
        "handlers": handlers,
        "portable": portable,
        "not_portable": refused,
        "settings_module": settings.SETTINGS_MODULE,
        "root_package": root_package,
        "project_modules": roots,
        "apps": [
            {
                "label": c.label,
                "name": c.name,
                "path": c.path,
                "all_models": [m._meta.label for m in c.get_models()],
            }
            for c in app_configs
        ],
        "models": [_model_record(m, extracted) for m in models_],
        "mirrors": _mirrors(models_, code),
        "patterns": patterns,
        "mounts": mounts,
        "templates": templates,
        "missing_templates": missing_templates,
        "context_processors": _context_processors(),
        "middleware": list(settings.MIDDLEWARE),
        "auth_backends": list(settings.AUTHENTICATION_BACKENDS)
        if cast(Any, settings).is_overridden("AUTHENTICATION_BACKENDS")
        else [],
        "rest_framework": _jsonable(getattr(settings, "REST_FRAMEWORK", {})),
        "receivers": receivers,
        "tasks": tasks,
        "settings_read": _settings_read(app_dirs),
        "installed_apps": list(settings.INSTALLED_APPS),
        "default_auto_field": settings.DEFAULT_AUTO_FIELD,
        "samples": _samples(models_),
        "settings_values": {
            name: _simple(getattr(settings, name, None)) for name in _settings_read(app_dirs)
        },
        "sync_node": str(getattr(settings, "STRANGLER_SYNC", {}).get("node", "monolith")),
        "reversed_elsewhere": [
            str(getattr(settings, n, ""))
            for n in ("LOGIN_URL", "LOGIN_REDIRECT_URL", "LOGOUT_REDIRECT_URL")
            if hasattr(settings, n)
        ],
        "uses_sessions": "django.contrib.sessions.middleware.SessionMiddleware"
        in settings.MIDDLEWARE,
    }


def _project_modules(root_package: str) -> list[str]:
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


def _imported_modules(tree: ast.AST) -> set[str]:
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


def _module_file(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def _portable(
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
                    m for m in _imported_modules(ast.parse(path.read_text())) if project(m)
                )
    verdicts: dict[str, str | None] = {}  # module: None when portable, else the reason

    def judge(name: str, trail: tuple[str, ...]) -> str | None:
        if name in verdicts:
            return verdicts[name]
        if name in trail:
            return None
        path = _module_file(name)
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
            for imported in sorted(_imported_modules(tree)):
                if project(imported) and _module_file(imported) is not None:
                    inner = judge(imported, (*trail, name))
                    if inner is not None:
                        reason = f"imports {imported} ({inner})"
                        break
        verdicts[name] = reason
        return reason

    for name in sorted(pending):
        if _module_file(name) is not None:
            judge(name, ())
    portable = {n: str(_module_file(n)) for n, reason in verdicts.items() if reason is None}
    refused = {n: reason for n, reason in verdicts.items() if reason is not None}
    return portable, refused


def _handlers() -> dict[str, str]:
    """The root URLconf's error views (``handler404 = "monolith.core.views.page_not_found"``)."""
    from django.urls import get_resolver

    found = {}
    for code in ("400", "403", "404", "500"):
        view = getattr(get_resolver().urlconf_module, f"handler{code}", None)
        if isinstance(view, str):
            found[f"handler{code}"] = view
        elif view is not None:
            found[f"handler{code}"] = f"{view.__module__}.{view.__qualname__}"
    return found


def _rendered(files: Iterable[str]) -> list[str]:
    """Template names a module's string literals give (``render(request, "404.html")``)."""
    names = []
    for file in files:
        for node in ast.walk(ast.parse(Path(file).read_text())):
            value = node.value if isinstance(node, ast.Constant) else None
            if isinstance(value, str) and re.fullmatch(r"[\w./-]+\.(html|txt|xml)", value):
                names.append(value)
    return names


def _simple(value: Any) -> Any:
    """A setting's value when JSON can carry it, else None (the checklist says to set it)."""
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError):
        return None


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m strangler.scaffold.extract.introspect")
    parser.add_argument("--app", action="append", required=True)
    parser.add_argument("--models", default="")
    args = parser.parse_args(argv)
    labels = [m.strip() for m in args.models.split(",") if m.strip()]
    try:
        report = introspect(args.app, labels)
    except _Refused as exc:
        print(exc, file=sys.stderr)
        return _CANNOT_RUN
    json.dump(report, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    importlib.invalidate_caches()
    raise SystemExit(main())
