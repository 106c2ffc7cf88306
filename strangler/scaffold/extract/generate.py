"""The service project ``strangler extract`` writes, from the introspection report.

No Django here (the CLI imports this module): everything about the monolith comes from the
report of :mod:`strangler.scaffold.extract.introspect`, run in a child process.
"""

from __future__ import annotations

import ast
import re
import shutil
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from pprint import pformat
from string import Template
from typing import Any

from strangler.scaffold.extract.source import (
    models_source,
    rename_modules,
    rename_python,
    rewrite_imports,
)

__all__ = [
    "Checklist",
    "Extraction",
    "generate",
    "selected_patterns",
    "template",
    "write_capture_migrations",
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


@dataclass
class Checklist:
    """What the generator could not copy safely, by heading."""

    items: dict[str, list[str]] = field(default_factory=dict)

    def add(self, heading: str, item: str) -> None:
        self.items.setdefault(heading, []).append(item)

    def markdown(self, service: str) -> str:
        lines = [
            f"# What `strangler extract` could not copy safely into {service}",
            "",
            "Each item is a hand edit or a decision before the service takes traffic.",
        ]
        for heading, items in self.items.items():
            lines += ["", f"## {heading}", ""] + [f"- {item}" for item in items]
        return "\n".join(lines) + "\n"


@dataclass
class Extraction:
    service: str
    out: Path
    report: dict[str, Any]
    patterns: list[dict[str, Any]]
    checklist: Checklist = field(default_factory=Checklist)

    @property
    def package(self) -> Path:
        return self.out / self.service

    def app_module(self, app: dict[str, Any]) -> str:
        return f"{self.service}.{app['name'].rsplit('.', 1)[-1]}"

    def portable_module(self, name: str) -> str:
        """Where a module of the monolith copied as it is goes: ``monolith.core.errors`` ->
        ``<service>.core.errors``."""
        first, _, rest = name.partition(".")
        if first == self.report["root_package"] and rest:
            return f"{self.service}.{rest}"
        return f"{self.service}.{name}"

    def renames(self) -> dict[str, str]:
        renames = {name: self.portable_module(name) for name in self.report["portable"]}
        renames.update({app["name"]: self.app_module(app) for app in self.report["apps"]})
        return renames


def template(name: str, **values: Any) -> str:
    """The package's template ``name`` with ``values`` substituted (``string.Template``)."""
    text = resources.files("strangler.scaffold.extract").joinpath(f"templates/{name}.tmpl")
    return Template(text.read_text(encoding="utf-8")).substitute(values)


def selected_patterns(report: dict[str, Any], names: list[str]) -> list[dict[str, Any]]:
    """The app's patterns the service answers; ``names`` (qualified URL names) narrow them."""
    served = [p for p in report["patterns"] if p["in_app"] and _under_mount(report, p)]
    if not names:
        return served
    return [p for p in served if p["qualified"] in names]


def _under_mount(report: dict[str, Any], pattern: dict[str, Any]) -> bool:
    return any(
        pattern["full"].startswith(m["full"])
        and pattern["namespaces"][: len(m["namespaces"])] == m["namespaces"]
        for m in report["mounts"]
    )


def generate(extraction: Extraction) -> None:
    """Write the project (the caller made sure ``out`` may be written)."""
    x = extraction
    x.package.mkdir(parents=True, exist_ok=True)
    _copy_apps(x)
    _copy_templates(x)
    _write(
        x.package / "__init__.py",
        template(
            "init.py", service=x.service, apps=", ".join(a["label"] for a in x.report["apps"])
        ),
    )
    _write(x.package / "__main__.py", template("main.py", service=x.service))
    _write(x.package / "wsgi.py", template("wsgi.py", service=x.service))
    _write(x.package / "celery.py", template("celery.py", service=x.service))
    _write(x.package / "identity.py", template("identity.py"))
    _write(x.package / "not_extracted.py", template("not_extracted.py"))
    _write(x.package / "context_processors.py", _context_processors(x))
    _write(x.package / "urls.py", _urls(x))
    _write(x.package / "settings.py", _settings(x))
    _write(x.out / "MONOLITH_SYNC.py", _monolith_snippet(x))
    _edit_monolith_settings(x)
    _write(
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
    _contract_suite(x)
    _checklist_static(x)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# -- the apps ---------------------------------------------------------------------------------


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
            _write(destination, text)
        migrations = target / "migrations"
        migrations.mkdir(parents=True, exist_ok=True)
        (migrations / "__init__.py").write_text("", encoding="utf-8")
    for name, source_file in sorted(x.report["portable"].items()):
        module = x.portable_module(name)
        parts = module.split(".")
        for depth in range(2, len(parts)):
            package_init = x.out.joinpath(*parts[:depth], "__init__.py")
            if not package_init.exists():
                _write(package_init, "")
        text = rename_python(Path(source_file).read_text(encoding="utf-8"), renames)
        text, replaced = rewrite_imports(text, roots=roots, kept=kept, service=x.service)
        _write(x.out.joinpath(*parts[:-1], parts[-1] + ".py"), text)
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
    for template in x.report["templates"]:
        _write(
            x.package / "templates" / template["name"],
            Path(template["path"]).read_text(encoding="utf-8"),
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


def _columns_name(model: dict[str, Any]) -> str:
    return f"_{model['name'].upper()}_COLUMNS"


def _sync_entries(
    x: Extraction, legacy: str
) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
    columns = "\n".join(f"{_columns_name(m)} = {m['columns']!r}" for m in x.report["models"])
    outbound = [
        {"model": m["label"], "to": legacy, "fields": _columns_name(m), "enabled": False}
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


def _literal(value: Any, indent: int = 4) -> str:
    text = pformat(value, indent=1, width=96, sort_dicts=False)
    return text.replace("\n", "\n" + " " * indent)


def _settings(x: Extraction) -> str:
    legacy = x.report["sync_node"]
    columns, outbound, inbound = _sync_entries(x, legacy)
    outbound_text = _literal(outbound)
    for model in x.report["models"]:
        outbound_text = outbound_text.replace(repr(_columns_name(model)), _columns_name(model))
    return template(
        "settings.py",
        service=x.service,
        SERVICE=x.service.upper(),
        LEGACY=legacy.upper(),
        legacy=legacy,
        settings_module=x.report["settings_module"],
        installed_apps=_literal(_installed_apps(x), 0),
        middleware=_literal(_middleware(x), 0),
        context_processors=_literal(_processor_paths(x), 8),
        default_auto_field=x.report["default_auto_field"],
        rest_framework=_literal(_rest_framework(x), 0),
        app_settings=_app_settings(x),
        columns=columns,
        outbound=outbound_text,
        inbound=_literal(inbound),
    )


def _monolith_snippet(x: Extraction) -> str:
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
        lines.append(f"{_columns_name(model)} = {model['columns']!r}")
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
            f"'fields': {_columns_name(model)}}},"
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


def _edit_monolith_settings(x: Extraction) -> None:
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


def _urls(x: Extraction) -> str:
    served = {
        p["qualified"] for p in x.report["patterns"] if p["in_app"] and _under_mount(x.report, p)
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
    for name in sorted(_reversed_names(x) - served):
        matches = [p for p in x.report["patterns"] if p["qualified"] == name]
        if not matches:
            missing.append(name)
            continue
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
            + ", ".join(
                f"`{':'.join([*ns, n])}`" for ns, entries in stubs.items() for n in _names(entries)
            )
            + ": the proxy sends those paths to the monolith",
        )
    return "\n".join(lines) + "\n"


def _names(entries: list[str]) -> list[str]:
    return [re.search(r"name='([^']+)'", e).group(1) for e in entries]  # type: ignore[union-attr]


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


def _model_for(x: Extraction, pattern: dict[str, Any], param: str) -> tuple[str, str] | None:
    models = x.report["models"]

    def field_of(model: dict[str, Any]) -> str | None:
        if param == "pk":
            return str(next(n for n, column in model["fields"].items() if column == model["pk"]))
        if param in model["fields"]:
            return param
        return None

    if pattern.get("model"):
        model = next((m for m in models if m["label"] == pattern["model"]), None)
        if model and field_of(model):
            return model["label"], field_of(model) or ""
    words = re.findall(r"[a-z]+", (pattern["full"] + " " + (pattern["name"] or "")).lower())
    for word in reversed(words):
        for model in models:
            name = model["name"].lower()
            if word in (name, name + "s", name[:-1] + "ies" if name.endswith("y") else name + "es"):
                field_name = field_of(model)
                if field_name:
                    return model["label"], field_name
    for model in models:
        field_name = field_of(model)
        if field_name:
            return model["label"], field_name
    return None


def _no_such_key(x: Extraction, label: str, field_name: str) -> str:
    """A value of the column's type that no row has (the contract of a 404)."""
    model = next(m for m in x.report["models"] if m["label"] == label)
    kind = model["types"].get(field_name, "")
    if kind == "UUIDField":
        return "00000000-0000-0000-0000-000000000000"
    if "Integer" in kind or "AutoField" in kind:
        return "999999999"
    return "no-such-key-strangler"


def _contract_suite(x: Extraction) -> None:
    routes = []
    missing: list[tuple[str, str]] = []
    for pattern in x.patterns:
        if pattern["regex"]:
            x.checklist.add(
                "Contract tests",
                f"`{pattern['qualified']}` is a regex route: add its requests by hand",
            )
            continue
        placeholders = {}
        path_text = "/" + re.sub(r"[{}]", lambda m: m.group(0) * 2, pattern["full"])
        unknown = []
        for _kind, param in _PLACEHOLDER.findall(pattern["full"]):
            found = _model_for(x, pattern, param)
            if found is None:
                unknown.append(param)
            else:
                placeholders[param] = found
        if unknown:
            x.checklist.add(
                "Contract tests",
                f"`{pattern['qualified']}`: no model column for {', '.join(unknown)}; "
                "add its requests by hand",
            )
            continue
        path_text = _PLACEHOLDER.sub(lambda m: "{" + m.group(2) + "}", path_text)
        name = pattern["qualified"] or pattern["view"]
        routes.append((name, path_text, placeholders))
        if placeholders:
            missing.append(
                (
                    name,
                    path_text.format(
                        **{p: _no_such_key(x, *placeholders[p]) for p in placeholders}
                    ),
                )
            )
    tests = x.out / "tests"
    _write(tests / "__init__.py", "")
    _write(tests / "conftest.py", template("conftest.py"))
    _write(
        tests / "test_contract.py",
        template(
            "test_contract.py",
            service=x.service,
            routes=_literal(routes, 0),
            missing=_literal(missing, 0),
        ),
    )
    _write(x.out / "pytest.ini", "[pytest]\ntestpaths = tests\n")


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
        _write(
            migrations / f"{number:04d}_sync_capture.py",
            template("capture.py", label=app["label"], latest=made[-1], operations=operations),
        )
