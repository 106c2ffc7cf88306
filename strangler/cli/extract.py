"""``strangler extract SERVICE --app APP``: a working service project from the monolith's app.

The CLI never imports a team's project: ``python -m strangler.scaffold.extract.introspect``
reads the monolith in a child process (its apps, models, URLconf, templates, context
processors) and prints JSON; :mod:`strangler.scaffold.extract.generate` writes the project;
the service's own ``makemigrations`` runs in a second child process; the capture migration,
the route table entry and the migration plan follow. What could not be copied safely is
printed and written to ``<out>/<service>/EXTRACT_CHECKLIST.md``.

Exit status: 0 written; 2 bad input (an unknown app, model or route, an output directory
that is not empty) or a child process that failed (its reason on stderr).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ruamel.yaml.error import YAMLError

from strangler.cli.errors import CommandError, ExitCode
from strangler.routes_file import write_atomically
from strangler.scaffold.extract.generate import (
    Extraction,
    generate,
    selected_patterns,
    write_capture_migrations,
    write_monolith_capture,
)
from strangler.scaffold.extract.plan import plan_yaml, route_entries
from strangler.scaffold.init_project import settings_named_by_manage_py
from strangler.scaffold.stack_entries import service_stack
from strangler.scaffold.stack_file import add_to_stack
from strangler.stack import StackError
from strangler.yaml_layout import round_trip_yaml, set_keeping_layout

__all__ = ["register"]

# Loading a monolith (its URLconf, its templates) takes seconds; two minutes is a hang.
CHILD_TIMEOUT_SECONDS = 120.0
_SERVICE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = groups.add_parser(
        "extract",
        help="generate a service project from the monolith's app(s): models, sync, "
        "URL stubs, contract tests, a route table entry and a migration plan",
    )
    command.add_argument(
        "service", metavar="SERVICE", help="the service's name (a Python package name)"
    )
    command.add_argument(
        "--app", action="append", required=True, help="a monolith app (label or module); repeatable"
    )
    command.add_argument(
        "--models",
        default="",
        metavar="app.Model,...",
        help="only these models (default: every model of the apps)",
    )
    command.add_argument(
        "--routes",
        default="",
        metavar="NAME,...",
        help="route names of --routes-file, or the monolith's URL names "
        "(default: every URL of the apps)",
    )
    command.add_argument(
        "--routes-file",
        type=Path,
        metavar="FILE",
        help="the route table to add the service's upstream and routes to "
        "(default: print the entry)",
    )
    command.add_argument(
        "--settings",
        metavar="MODULE",
        help="the monolith's settings module (default: $DJANGO_SETTINGS_MODULE, else the "
        "one the project's manage.py names)",
    )
    command.add_argument(
        "--project",
        type=Path,
        default=Path.cwd(),
        metavar="DIR",
        help="the monolith's directory (default: the current one)",
    )
    command.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="the new project's directory (default: DIR/../SERVICE)",
    )
    command.add_argument(
        "--plans-dir",
        type=Path,
        default=Path("migration_plans"),
        metavar="DIR",
        help="where the migration plan goes (default: migration_plans)",
    )
    command.add_argument(
        "--service-url",
        default="",
        metavar="URL",
        help="where the service will listen, for the route table "
        "(default: http://127.0.0.1:${SERVICE}_PORT, 8200 when unset)",
    )
    command.add_argument(
        "--force", action="store_true", help="write into a non-empty output directory"
    )
    command.set_defaults(command=extract)


def _refuse(message: str) -> CommandError:
    return CommandError(message, exit_code=ExitCode.CANNOT_RUN)


def _child_env(project: Path, settings: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(project), env.get("PYTHONPATH", "")) if p)
    env["DJANGO_SETTINGS_MODULE"] = settings
    env.update(extra)
    return env


def _run(
    argv: list[str], *, cwd: Path, env: dict[str, str], what: str, own_words: bool = False
) -> str:
    """The child's output; a refusal saying ``what`` failed, with the child's last line of
    stderr (as the whole message when ``own_words``: the child speaks to the user)."""
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and modules
            argv,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise _refuse(f"{what} gave no answer in {CHILD_TIMEOUT_SECONDS:g} s") from exc
    if done.returncode != 0:
        reason = done.stderr.strip().splitlines()
        if own_words:
            raise _refuse(reason[-1] if reason else f"{what} failed (exit {done.returncode})")
        raise _refuse(
            f"{what} failed: {reason[-1] if reason else f'exit status {done.returncode}'}"
        )
    return done.stdout


def _introspect(args: argparse.Namespace, settings: str, project: Path) -> dict[str, Any]:
    argv = [sys.executable, "-m", "strangler.scaffold.extract.introspect"]
    for app in args.app:
        argv += ["--app", app]
    if args.models:
        argv += ["--models", args.models]
    env = _child_env(project, settings)
    out = _run(argv, cwd=project, env=env, what="reading the monolith", own_words=True)
    report: dict[str, Any] = json.loads(out)
    return report


def _output_dir(args: argparse.Namespace, project: Path) -> Path:
    out: Path = args.out or (project.parent / args.service)
    if out.exists() and not out.is_dir():
        raise _refuse(f"--out {out} is a file, not a directory")
    if out.is_dir() and any(out.iterdir()) and not args.force:
        raise _refuse(f"{out} is not empty: choose another --out, or pass --force to write into it")
    return out


def _covers(route: dict[str, Any], pattern: dict[str, Any]) -> bool:
    """Whether a route of the table sends the pattern's paths where it points."""
    full = "/" + str(pattern["full"])
    if route.get("prefix"):
        head = re.split(r"[<{*]", str(route["prefix"]), maxsplit=1)[0]
        return full.startswith(head)
    proxy: dict[str, Any] = pattern.get("proxy") or {}
    return bool(route.get("path")) and route.get("path") in (full, proxy.get("pattern"))


def _routes(
    args: argparse.Namespace, report: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The patterns the contract suite covers, and the names of routes of --routes-file
    the service takes over (patterns no route of the table covers become new routes)."""
    names = [n.strip() for n in args.routes.split(",") if n.strip()]
    served = selected_patterns(report, [])
    table_routes: dict[str, dict[str, Any]] = {}
    if args.routes_file is not None:
        table_routes = {r.get("name"): r for r in _read_table(args.routes_file).get("routes") or []}
    if not names:
        # Every URL of the apps; a route of the table already covering one keeps its owner
        # (the checklist says so) and gets no twin.
        for pattern in served:
            for name, route in table_routes.items():
                if _covers(route, pattern):
                    pattern["covered_by"] = name
                    pattern["left_with_owner"] = str(route.get("owner"))
                    break
        return served, []
    chosen: list[dict[str, Any]] = []
    taken: list[str] = []
    url_names = {p["qualified"]: p for p in served}
    for name in names:
        if name in table_routes:
            route = table_routes[name]
            matched = [p for p in served if _covers(route, p)]
            if not matched:
                where = route.get("prefix") or route.get("path")
                raise _refuse(
                    f"route {name!r} of {args.routes_file} covers none of the app's URLs ({where})"
                )
            for pattern in matched:
                pattern["covered_by"] = name
            chosen += [p for p in matched if p not in chosen]
            taken.append(name)
        elif name in url_names:
            if url_names[name] not in chosen:
                chosen.append(url_names[name])
        else:
            known = sorted(table_routes) + sorted(n for n in url_names if n)
            raise _refuse(f"no route or URL name {name!r} (known: {', '.join(known)})")
    return chosen, taken


def _read_table(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
        data = round_trip_yaml(text).load(text)
    except OSError as exc:
        raise _refuse(f"cannot read the route table {path}: {exc.strerror}") from exc
    except YAMLError as exc:
        raise _refuse(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise _refuse(f"{path} is not a route table (a mapping with 'routes')")
    return data


def extract(args: argparse.Namespace) -> int:
    if not _SERVICE_NAME.match(args.service):
        raise _refuse(
            f"the service name {args.service!r} must be a Python package name (a-z, 0-9, _)"
        )
    project = args.project.resolve()
    if not project.is_dir():
        raise _refuse(f"--project {args.project} is not a directory (the monolith's)")
    settings = (
        args.settings
        or os.environ.get("DJANGO_SETTINGS_MODULE")
        or settings_named_by_manage_py(project)
    )
    if not settings:
        raise _refuse(
            "name the monolith's settings with --settings or $DJANGO_SETTINGS_MODULE "
            f"({project} has no manage.py naming them)"
        )
    out = _output_dir(args, project).resolve()
    report = _introspect(args, settings, project)
    patterns, taken = _routes(args, report)
    extraction = Extraction(
        service=args.service,
        out=out,
        report=report,
        patterns=patterns,
        legacy_url=_legacy_url(args),
        legacy_upstream=_legacy_upstream(args),
        legacy_manage="python manage.py" if (project / "manage.py").is_file() else "",
    )
    plans_dir = args.plans_dir if args.plans_dir.is_absolute() else project / args.plans_dir
    plan_path = plans_dir / f"{args.service}.yaml"
    service_dir = Path(os.path.relpath(out, project)).as_posix()
    try:
        generate(extraction)
        _makemigrations(extraction)
        write_capture_migrations(extraction)
        write_monolith_capture(extraction, project)
        entries = route_entries(extraction, taken, args.service_url)
        _route_table(args, extraction, entries)
        plans_dir.mkdir(parents=True, exist_ok=True)
        plan = plan_yaml(
            extraction,
            [e["name"] for e in entries["routes"]],
            service_manage=f"python {service_dir}/manage.py",
        )
        plan_path.write_text(plan, encoding="utf-8")
        _stack(extraction, project, service_dir, entries["upstream"]["url"])
        checklist = extraction.checklist.markdown(args.service)
        (extraction.package / "EXTRACT_CHECKLIST.md").write_text(checklist, encoding="utf-8")
    except OSError as exc:
        raise _refuse(f"cannot write {exc.filename or out}: {exc.strerror}") from exc
    except YAMLError as exc:
        raise _refuse(f"{args.routes_file} is not valid YAML: {exc}") from exc
    print(f"wrote the {args.service} service to {out} and its plan to {plan_path}", file=sys.stderr)
    sys.stdout.write(checklist)
    return int(ExitCode.OK)


def _legacy_url(args: argparse.Namespace) -> str:
    """The monolith's URL as the team's route table writes it (its ``legacy`` upstream)."""
    if args.routes_file is None:
        return ""
    table = _read_table(args.routes_file)
    upstream = (table.get("upstreams") or {}).get(table.get("legacy") or "monolith") or {}
    url = upstream.get("url") if isinstance(upstream, dict) else None
    return url if isinstance(url, str) else ""


def _legacy_upstream(args: argparse.Namespace) -> str:
    if args.routes_file is None:
        return ""
    legacy = _read_table(args.routes_file).get("legacy")
    return legacy if isinstance(legacy, str) else "monolith"


def _stack(x: Extraction, project: Path, service_dir: str, service_url: str) -> None:
    """The service's processes and its migrations in the monolith's ``stack.yaml``, on the
    port variable its route table entry names."""
    found = re.search(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)", service_url)
    port = found["name"] if found else f"{x.service.upper()}_PORT"
    path = project / "stack.yaml"
    try:
        changes = add_to_stack(path, service_stack(x.service, service_dir, port))
    except StackError as exc:
        x.checklist.add("Stack", f"add the {x.service} service's processes by hand: {exc}")
        return
    if changes.added:
        print(f"added to {path}: {', '.join(changes.added)}", file=sys.stderr)


def _makemigrations(x: Extraction) -> None:
    labels = [a["label"] for a in x.report["apps"]]
    with tempfile.TemporaryDirectory(prefix="strangler-extract-") as var:
        env = _child_env(x.out, f"{x.service}.settings", STRANGLER_DEMO="1", STRANGLER_VAR_DIR=var)
        env.pop(f"{x.service.upper()}_DATABASE_URL", None)
        _run(
            [sys.executable, "-m", x.service, "makemigrations", *labels],
            cwd=x.out,
            env=env,
            what=f"python -m {x.service} makemigrations",
        )


def _route_table(args: argparse.Namespace, x: Extraction, entries: dict[str, Any]) -> None:
    if args.routes_file is None:
        print("# the route table entry (add to your routes.yaml):", file=sys.stderr)
        stream = io.StringIO()
        round_trip_yaml("").dump(
            {"upstreams": {args.service: entries["upstream"]}, "routes": entries["routes"]}, stream
        )
        print(stream.getvalue(), file=sys.stderr)
        return
    text = args.routes_file.read_text(encoding="utf-8")
    yaml = round_trip_yaml(text)
    data = yaml.load(text)
    upstreams = data.get("upstreams")
    if upstreams is None:
        raise _refuse(f"{args.routes_file} has no 'upstreams'")
    set_keeping_layout(upstreams, args.service, entries["upstream"])
    routes = data.setdefault("routes", [])
    by_name = {r.get("name"): r for r in routes}
    for entry in entries["routes"]:
        existing = by_name.get(entry["name"])
        if existing is not None:
            set_keeping_layout(existing, "owner", args.service)
        else:
            routes.append(entry)
    stream = io.StringIO()
    yaml.dump(data, stream)
    write_atomically(args.routes_file, stream.getvalue())
