"""The service project ``strangler extract`` writes, from the introspection report.

No Django here (the CLI imports this module): everything about the monolith comes from the
report of :mod:`strangler.scaffold.extract.introspect`, run in a child process.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from strangler.scaffold.extract.contract import contract_suite
from strangler.scaffold.extract.project import (
    Checklist,
    Extraction,
    literal,
    template,
    under_mount,
    write,
)
from strangler.scaffold.extract.source import (
    models_source,
    rename_modules,
    rename_python,
    rewrite_imports,
)
from strangler.scaffold.extract.sync_settings import (
    columns_name,
    edit_monolith_settings,
    monolith_snippet,
    sync_entries,
)
from strangler.scaffold.extract.urls import urls_module

__all__ = [
    "Checklist",
    "Extraction",
    "generate",
    "selected_patterns",
    "template",
    "write_capture_migrations",
    "write_monolith_capture",
]

# Apps of the monolith a service without users, sessions or an admin leaves out.
_LEFT_OUT_APPS = {
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "rest_framework.authtoken",
    "strangler.contrib.identity",
    "strangler.sync",
}
_KNOWN_MIDDLEWARE = {
    "strangler.servicekit.request_id.request_id_middleware",
    "strangler.sync.freshness.data_versions_middleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
}
_BUILTIN_CONVERTERS = {"int", "str", "slug", "uuid", "path"}
_URL_IN_TEMPLATE = re.compile(r"{%\s*url\s+[\"']([^\"']+)[\"']")
_URL_IN_PYTHON = re.compile(
    r"(?:reverse|reverse_lazy|redirect|resolve_url)\(\s*[\"']([^\"'/]+)[\"']"
)
_PLACEHOLDER = re.compile(r"<(?:(\w+):)?(\w+)>")
_SKIPPED_FILES = {"admin.py", "tests.py"}
_SKIPPED_DIRS = {"migrations", "tests", "__pycache__"}


def selected_patterns(report: dict[str, Any], names: list[str]) -> list[dict[str, Any]]:
    """The app's patterns the service answers; ``names`` (qualified URL names) narrow them."""
    served = [p for p in report["patterns"] if p["in_app"] and under_mount(report, p)]
    if not names:
        return served
    return [p for p in served if p["qualified"] in names]


def generate(extraction: Extraction) -> None:
    """Write the project (the caller made sure ``out`` may be written)."""
    x = extraction
    x.package.mkdir(parents=True, exist_ok=True)
    _copy_apps(x)
    _copy_templates(x)
    write(
        x.package / "__init__.py",
        template(
            "init.py", service=x.service, apps=", ".join(a["label"] for a in x.report["apps"])
        ),
    )
    write(x.package / "__main__.py", template("main.py", service=x.service))
    write(x.out / "manage.py", template("manage.py", service=x.service))
    write(x.package / "wsgi.py", template("wsgi.py", service=x.service))
    write(x.package / "celery.py", template("celery.py", service=x.service))
    write(x.package / "identity.py", template("identity.py"))
    write(x.package / "not_extracted.py", template("not_extracted.py"))
    write(x.package / "context_processors.py", _context_processors(x))
    write(x.package / "urls.py", urls_module(x))
    write(x.package / "settings.py", _settings(x))
    write(x.out / "MONOLITH_SYNC.py", monolith_snippet(x))
    edit_monolith_settings(x)
    write(
        x.out / "README.md",
        template(
            "README.md",
            service=x.service,
            SERVICE=x.service.upper(),
            LEGACY=x.report["sync_node"].upper(),
            apps=", ".join(f"`{a['name']}`" for a in x.report["apps"]),
            root=x.report["root_package"],
        ),
    )
    contract_suite(x)
    _checklist_static(x)


def _copy_apps(x: Extraction) -> None:
    roots = tuple(x.report["project_modules"])
    kept = tuple(a["name"] for a in x.report["apps"])
    renames = x.renames()
    for app in x.report["apps"]:
        source = Path(app["path"])
        target = x.package / app["name"].rsplit(".", 1)[-1]
        for path in sorted(source.rglob("*")):
            relative = path.relative_to(source)
            if set(relative.parts) & _SKIPPED_DIRS or path.is_dir():
                continue
            if relative.name in _SKIPPED_FILES:
                x.checklist.add(
                    "Not copied",
                    f"`{app['name']}/{relative}`: the service has no admin or the monolith's tests",
                )
                continue
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix != ".py":
                shutil.copyfile(path, destination)
                continue
            text = rename_python(path.read_text(encoding="utf-8"), renames)
            if relative == Path("models.py"):
                here = {m["name"]: m for m in x.report["models"] if m["app"] == app["label"]}
                drop = {label.split(".")[1] for label in app["all_models"]} - set(here)
                mirrors = x.report["mirrors"] if app is x.report["apps"][0] else []
                text = models_source(
                    text,
                    here,
                    drop=drop,
                    mirrors=mirrors,
                    origin=f"{app['name']}.models",
                    service=x.service,
                )
                for name in sorted(drop):
                    x.checklist.add(
                        "Models of the extracted apps left in the monolith (--models)",
                        f"`{app['label']}.{name}`: a stand-in in models.py that fails when used",
                    )
            text, replaced = rewrite_imports(text, roots=roots, kept=kept, service=x.service)
            for origin in replaced:
                x.checklist.add(
                    "Code of other apps the copied code uses (a stand-in that fails when called)",
                    f"`{app['name']}/{relative}` imports `{origin}`: port it, or call the monolith",
                )
            write(destination, text)
        migrations = target / "migrations"
        migrations.mkdir(parents=True, exist_ok=True)
        (migrations / "__init__.py").write_text("", encoding="utf-8")
    for name, source_file in sorted(x.report["portable"].items()):
        module = x.portable_module(name)
        parts = module.split(".")
        for depth in range(2, len(parts)):
            package_init = x.out.joinpath(*parts[:depth], "__init__.py")
            if not package_init.exists():
                write(package_init, "")
        text = rename_python(Path(source_file).read_text(encoding="utf-8"), renames)
        text, replaced = rewrite_imports(text, roots=roots, kept=kept, service=x.service)
        write(x.out.joinpath(*parts[:-1], parts[-1] + ".py"), text)
        x.checklist.add(
            "Copied from the monolith's other apps as they are (no models, nothing else of "
            "the monolith imported): keep them in step, or move them to a shared package",
            f"`{name}` -> `{module}`",
        )
    for model in x.report["models"]:
        for item in model["leaving"]:
            x.checklist.add(
                "Foreign keys leaving the extracted models (now plain columns)",
                f"`{model['label']}.{item['field']}` -> `{item['target']}` (column "
                f"`{item['column']}`): no join, no constraint; read the other side over HTTP",
            )
    for mirror in x.report["mirrors"]:
        x.checklist.add(
            "Read-only mirrors of the monolith's tables",
            f"`{mirror['label']}` (table `{mirror['table']}`) is copied by the sync because the "
            f"code reads it as {', '.join(mirror['used_as'])}; never write it in the service",
        )


def _copy_templates(x: Extraction) -> None:
    for copied in x.report["templates"]:
        write(
            x.package / "templates" / copied["name"],
            Path(copied["path"]).read_text(encoding="utf-8"),
        )
    for name in x.report["missing_templates"]:
        x.checklist.add("Templates", f"`{name}` is referenced but the monolith has none: write it")


# -- settings, URLs, context processors --------------------------------------------------------


def _context_processors(x: Extraction) -> str:
    lines = [
        '"""Context processors the copied templates rely on (written by ``strangler extract``).',
        "",
        "The monolith's own processors read its other apps; each stand-in here answers what the",
        'monolith\'s answers an anonymous visitor, and is listed in EXTRACT_CHECKLIST.md."""',
        "",
        "from typing import Any",
        "",
        "from django.http import HttpRequest",
    ]
    for processor in _custom_processors(x):
        name = processor["path"].rsplit(".", 1)[1]
        lines += [
            "",
            "",
            f"def {name}(request: HttpRequest) -> dict[str, Any]:",
            f'    """``{processor["path"]}`` for an anonymous visitor."""',
            f"    return {processor['anonymous']!r}",
        ]
    return "\n".join(lines) + "\n"


def _custom_processors(x: Extraction) -> list[dict[str, Any]]:
    return [
        p
        for p in x.report["context_processors"]
        if not p["path"].startswith("django.")
        and p.get("anonymous") is not None
        and not any(p["path"].startswith(a["name"] + ".") for a in x.report["apps"])
    ]


def _processor_paths(x: Extraction) -> list[str]:
    paths = []
    renames = x.renames()
    for processor in x.report["context_processors"]:
        path = processor["path"]
        if path == "django.contrib.auth.context_processors.auth":
            paths.append(f"{x.service}.identity.user")
        elif path == "django.contrib.messages.context_processors.messages":
            x.checklist.add(
                "Context processors",
                "`messages`: the service has no messages framework; pages show none",
            )
        elif path.startswith("django."):
            paths.append(path)
        elif any(path.startswith(old + ".") for old in renames):
            paths.append(rename_modules(path, renames))
        elif processor.get("anonymous") is not None:
            paths.append(f"{x.service}.context_processors.{path.rsplit('.', 1)[1]}")
            x.checklist.add(
                "Context processors",
                f"`{path}` is a stand-in answering {processor['anonymous']!r}, what the monolith "
                "answers an anonymous visitor: port it for signed-in users",
            )
        else:
            x.checklist.add(
                "Context processors",
                f"`{path}` could not be evaluated ({processor.get('error')}): port it",
            )
    return paths


def _middleware(x: Extraction) -> list[str]:
    monolith = x.report["middleware"]
    chosen = [
        "strangler.servicekit.request_id.request_id_middleware",
        "strangler.sync.freshness.data_versions_middleware",
    ]
    for path in monolith:
        if path in chosen:
            continue
        if path == "django.contrib.sessions.middleware.SessionMiddleware":
            chosen.append(f"{x.service}.identity.vary_on_cookie_middleware")
        elif path in (
            "django.middleware.security.SecurityMiddleware",
            "whitenoise.middleware.WhiteNoiseMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.clickjacking.XFrameOptionsMiddleware",
        ):
            chosen.append(path)
            if path == "django.middleware.common.CommonMiddleware":
                chosen.append("strangler.servicekit.identity.identity_middleware")
        elif path not in _KNOWN_MIDDLEWARE:
            x.checklist.add(
                "Middleware",
                f"`{path}` runs in the monolith and not here: add it if the copied views "
                "rely on it",
            )
    if "strangler.servicekit.identity.identity_middleware" not in chosen:
        chosen.append("strangler.servicekit.identity.identity_middleware")
    return chosen


def _installed_apps(x: Extraction) -> list[str]:
    roots = x.report["project_modules"]
    apps = ["django.contrib.staticfiles"]
    for name in x.report["installed_apps"]:
        if name in _LEFT_OUT_APPS or name in apps or name.split(".")[0] in roots:
            continue
        apps.append(name)
    apps += [x.app_module(a) for a in x.report["apps"]]
    return [*apps, "strangler.sync"]


def _rest_framework(x: Extraction) -> dict[str, Any]:
    settings = dict(x.report["rest_framework"])
    if not settings:
        return settings
    renames = x.renames()
    roots = tuple(r + "." for r in x.report["project_modules"])
    settings["DEFAULT_AUTHENTICATION_CLASSES"] = [
        f"{x.service}.identity.ProxyIdentityAuthentication"
    ]
    settings["UNAUTHENTICATED_USER"] = "strangler.servicekit.identity.AnonymousIdentityUser"
    for key, value in list(settings.items()):
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, str) and v.startswith(roots) for v in values):
            renamed = [rename_modules(v, renames) if isinstance(v, str) else v for v in values]
            if any(
                isinstance(v, str) and v.startswith(roots) and not v.startswith(x.service + ".")
                for v in renamed
            ):
                x.checklist.add(
                    "Settings",
                    f"`REST_FRAMEWORK[{key!r}]` is the monolith's `{value}`, outside the extracted "
                    "apps: left out, so DRF's default applies; copy it for the same answers",
                )
                del settings[key]
            else:
                settings[key] = renamed if isinstance(value, list) else renamed[0]
    return settings


def _app_settings(x: Extraction) -> str:
    lines = []
    for name, value in x.report["settings_values"].items():
        kind = {str: "str", bool: "bool", int: "int", float: "float"}.get(type(value))
        if kind:
            lines.append(f"{name} = env.{kind}({name!r}, default={value!r})")
        elif value is not None:
            lines.append(f"{name} = {value!r}")
        else:
            lines.append(f"# {name} = ...  # the monolith's value could not be copied")
        x.checklist.add(
            "Settings the copied code reads",
            f"`{name}`: the monolith's value {value!r} by default, from the environment "
            "variable of that name when it is a plain value",
        )
    return "\n".join(lines) or "# (none)"


def _settings(x: Extraction) -> str:
    legacy = x.report["sync_node"]
    columns, outbound, inbound = sync_entries(x, legacy)
    outbound_text = literal(outbound)
    for model in x.report["models"]:
        outbound_text = outbound_text.replace(repr(columns_name(model)), columns_name(model))
    return template(
        "settings.py",
        service=x.service,
        SERVICE=x.service.upper(),
        LEGACY=legacy.upper(),
        legacy=legacy,
        legacy_port=x.legacy_port[0],
        legacy_port_default=x.legacy_port[1],
        settings_module=x.report["settings_module"],
        installed_apps=literal(_installed_apps(x), 0),
        middleware=literal(_middleware(x), 0),
        context_processors=literal(_processor_paths(x), 8),
        default_auto_field=x.report["default_auto_field"],
        rest_framework=literal(_rest_framework(x), 0),
        app_settings=_app_settings(x),
        columns=columns,
        outbound=outbound_text,
        inbound=literal(inbound),
    )


def _checklist_static(x: Extraction) -> None:
    for receiver in x.report["receivers"]:
        x.checklist.add(
            "Signals and receivers (copied; check they still make sense here)", f"`{receiver}`"
        )
    for task in x.report["tasks"]:
        x.checklist.add("Celery tasks (copied; they run on the service's queue now)", f"`{task}`")
    for backend in x.report["auth_backends"]:
        x.checklist.add(
            "Authentication",
            f"`{backend}` authenticates in the monolith; the service trusts the proxy's signed "
            "identity only (the monolith's identity resolvers must cover this scheme)",
        )


def write_capture_migrations(x: Extraction) -> None:
    """After ``makemigrations``: each app's capture migration, on top of its latest."""
    for app in x.report["apps"]:
        tables = [m for m in x.report["models"] if m["app"] == app["label"]]
        if not tables:
            continue
        migrations = x.package / app["name"].rsplit(".", 1)[-1] / "migrations"
        made = sorted(p.stem for p in migrations.glob("[0-9][0-9][0-9][0-9]_*.py"))
        if not made:
            raise ValueError(f"makemigrations made no migration for {app['label']}")
        number = int(made[-1][:4]) + 1
        operations = "\n".join(
            f'        CaptureTable(table="{m["table"]}", pk="{m["pk"]}"),' for m in tables
        )
        write(
            migrations / f"{number:04d}_sync_capture.py",
            template("capture.py", label=app["label"], latest=made[-1], operations=operations),
        )


def write_monolith_capture(x: Extraction, project: Path) -> Path | None:
    """The monolith's capture migration: every table it sends the service (the extracted
    ones and the mirrors), as a new migration of the first extracted app, after that app's
    latest and the latest of each mirrored table's app. None when the app's migrations are
    not in the project (an installed package's), or when the project's migrations (its
    apps', two levels down) already capture them all: a second extraction changes nothing."""
    tables = [*x.report["models"], *x.report["mirrors"]]
    if not tables or not x.report["apps"]:
        return None
    app = next(
        (a for a in x.report["apps"] if any(m["app"] == a["label"] for m in tables)),
        x.report["apps"][0],
    )
    migrations = Path(app["path"]) / "migrations"
    made = sorted(migrations.glob("[0-9][0-9][0-9][0-9]_*.py"))
    # No migration of its own yet: a first one would make Django stop creating its tables.
    if not made or project.resolve() not in migrations.resolve().parents:
        x.checklist.add(
            "The monolith's side of the sync",
            f"the monolith's capture migration must cover "
            f"{_tables(tables)} (`CaptureTable`, as the "
            "service's own `000N_sync_capture.py`)",
        )
        return None
    existing = "\n".join(
        p.read_text(encoding="utf-8")
        for pattern in ("*/migrations/[0-9]*.py", "*/*/migrations/[0-9]*.py")
        for p in project.glob(pattern)
    )
    missing = [m for m in tables if f'CaptureTable(table="{m["table"]}"' not in existing]
    if not missing:
        return None
    number = int(made[-1].name[:4]) + 1
    others = sorted({m["app"] for m in missing} - {app["label"]})
    dependencies = "\n".join(
        [f'        ("{app["label"]}", "{made[-1].stem}"),']
        + [f'        ("{label}", "__latest__"),' for label in others]
    )
    operations = "\n".join(
        f'        CaptureTable(table="{m["table"]}", pk="{m["pk"]}"),' for m in missing
    )
    path = migrations / f"{number:04d}_sync_capture_{x.service}.py"
    write(
        path,
        template(
            "monolith_capture.py",
            service=x.service,
            dependencies=dependencies,
            operations=operations,
        ),
    )
    x.checklist.add(
        "The monolith's side of the sync",
        f"`{path.relative_to(project.resolve()).as_posix()}` captures "
        f"{_tables(missing)}: run `python manage.py migrate`",
    )
    return path


def _tables(models: list[dict[str, Any]]) -> str:
    return ", ".join(f"`{m['table']}`" for m in models)
