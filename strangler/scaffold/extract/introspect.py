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
import importlib
import importlib.util
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from strangler.scaffold.extract.introspect_code import (
    context_processors,
    module_file,
    portable_modules,
    project_modules,
    receivers_and_tasks,
    rendered_templates,
    settings_read,
    template_closure,
)
from strangler.scaffold.extract.introspect_models import (
    Refused,
    code_names,
    mirror_records,
    model_record,
    sample_keys,
)
from strangler.scaffold.extract.introspect_urls import (
    error_handlers,
    url_patterns,
)

_CANNOT_RUN = 2


def _setup() -> None:
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except (ImproperlyConfigured, ImportError) as exc:
        raise Refused(f"the monolith's settings cannot be loaded: {exc}") from exc


def _app_configs(names: Sequence[str]) -> list[Any]:
    from django.apps import apps

    found = []
    for name in names:
        match = [c for c in apps.get_app_configs() if name in (c.label, c.name)]
        if not match:
            known = ", ".join(sorted(c.label for c in apps.get_app_configs()))
            raise Refused(f"no installed app {name!r} in the monolith (its apps: {known})")
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
            raise Refused(
                f"no model {label!r} in the monolith (write app_label.ModelName)"
            ) from exc
        if model._meta.app_label not in labels:
            raise Refused(
                f"model {label!r} is not in the extracted app(s) {', '.join(sorted(labels))}: "
                "add its app with --app"
            )
        chosen.append(model)
    return chosen


def introspect(app_names: Sequence[str], model_labels: Sequence[str]) -> dict[str, Any]:
    _setup()
    from django.conf import settings

    app_configs = _app_configs(app_names)
    models_ = _models(app_configs, model_labels)
    extracted = {m._meta.label for m in models_}
    app_dirs = [Path(c.path) for c in app_configs]
    code = code_names(app_dirs)
    patterns, mounts = url_patterns([c.name for c in app_configs])
    receivers, tasks = receivers_and_tasks(app_dirs)
    root_package = settings.SETTINGS_MODULE.split(".")[0]
    roots = project_modules(root_package)
    rest: dict[str, Any] = dict(getattr(settings, "REST_FRAMEWORK", {}))
    setting_paths = [
        v.rsplit(".", 1)[0]
        for value in rest.values()
        for v in (value if isinstance(value, list | tuple) else [value])
        if isinstance(v, str) and "." in v
    ]
    handlers = error_handlers()
    setting_paths += [path.rsplit(".", 1)[0] for path in handlers.values()]
    portable, refused = portable_modules(
        app_dirs, [c.name for c in app_configs], roots, setting_paths
    )
    templates, missing_templates = template_closure(app_dirs, rendered_templates(portable.values()))
    return {
        "settings_file": str(module_file(settings.SETTINGS_MODULE) or ""),
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
        "models": [model_record(m, extracted) for m in models_],
        "mirrors": mirror_records(models_, code),
        "patterns": patterns,
        "mounts": mounts,
        "templates": templates,
        "missing_templates": missing_templates,
        "context_processors": context_processors(),
        "middleware": list(settings.MIDDLEWARE),
        "auth_backends": list(settings.AUTHENTICATION_BACKENDS)
        if cast(Any, settings).is_overridden("AUTHENTICATION_BACKENDS")
        else [],
        "rest_framework": _jsonable(getattr(settings, "REST_FRAMEWORK", {})),
        "receivers": receivers,
        "tasks": tasks,
        "settings_read": settings_read(app_dirs),
        "installed_apps": list(settings.INSTALLED_APPS),
        "default_auto_field": settings.DEFAULT_AUTO_FIELD,
        "samples": sample_keys(models_),
        "settings_values": {
            name: _simple(getattr(settings, name, None)) for name in settings_read(app_dirs)
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
    except Refused as exc:
        print(exc, file=sys.stderr)
        return _CANNOT_RUN
    json.dump(report, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    importlib.invalidate_caches()
    raise SystemExit(main())
