"""``strangler routes from-urlconf``: a route table written from the monolith's own URLconf.

The CLI never imports a team's project: ``python -m strangler.urlconf.export`` runs in a
child process with ``DJANGO_SETTINGS_MODULE`` set, walks Django's resolver and prints every
pattern as JSON; :mod:`strangler.urlconf.table` turns them into routes, and the proxy's own
checker (``python -m strangler.proxy.check``) validates the file before it is written.

What the proxy cannot express exactly is reported, with what became of it, on stderr (or in
``--json-report``'s ``inexpressible``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from strangler.cli.errors import CommandError, ExitCode
from strangler.cli.routes.checker import check_report
from strangler.scaffold.init_project import settings_named_by_manage_py
from strangler.urlconf.table import UrlconfTable, build_table, parse_patterns, table_yaml

__all__ = ["register_from_urlconf", "routes_from_urlconf"]

SETTINGS_VARIABLE = "DJANGO_SETTINGS_MODULE"
# Loading a project's settings and URLconf (the admin's included) takes a few seconds at
# most; two minutes means an import hangs (a settings module waiting on a network peer).
EXPORT_TIMEOUT_SECONDS = 120.0
# Django's runserver default: the monolith where nothing else says where it listens.
DEFAULT_MONOLITH_URL = "http://127.0.0.1:8000"


def register_from_urlconf(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = commands.add_parser(
        "from-urlconf",
        help="write a route table from the monolith's URLconf, every route in mode monolith",
    )
    command.add_argument(
        "--settings",
        metavar="MODULE",
        help=f"the monolith's Django settings module (default: ${SETTINGS_VARIABLE}, else "
        "the one ./manage.py names)",
    )
    command.add_argument(
        "--urlconf",
        metavar="MODULE",
        help="the URLconf to read (default: the settings' ROOT_URLCONF)",
    )
    command.add_argument(
        "--per",
        choices=("pattern", "app"),
        default="pattern",
        help="one route per URL pattern (default), or one per app prefix",
    )
    command.add_argument(
        "--owner-upstream",
        metavar="NAME",
        default="monolith",
        help="the legacy upstream's name, every route's owner (default: monolith)",
    )
    command.add_argument(
        "--upstream-url",
        metavar="URL",
        default=DEFAULT_MONOLITH_URL,
        help=f"where the legacy upstream listens (default: {DEFAULT_MONOLITH_URL})",
    )
    command.add_argument(
        "--out", metavar="FILE", type=Path, help="write the table here (default: stdout)"
    )
    command.add_argument(
        "--json-report",
        action="store_true",
        help="print a JSON report on stdout (routes, their patterns, what was not exact) "
        "instead of the lines on stderr; the table goes to --out, or into the report",
    )
    command.set_defaults(command=routes_from_urlconf)


def routes_from_urlconf(args: argparse.Namespace) -> int:
    settings = (
        args.settings
        or os.environ.get(SETTINGS_VARIABLE)
        or settings_named_by_manage_py(Path.cwd())
    )
    if not settings:
        raise CommandError(
            f"name the monolith's Django settings with --settings or ${SETTINGS_VARIABLE} "
            "(e.g. --settings monolith.settings), or run this where manage.py names them",
            exit_code=ExitCode.CANNOT_RUN,
        )
    try:
        patterns = parse_patterns(_export(settings, args.urlconf))
    except ValueError as exc:
        raise CommandError(
            f"python -m strangler.urlconf.export printed no pattern list: {exc}",
            exit_code=ExitCode.CANNOT_RUN,
        ) from exc
    table = build_table(patterns, per=args.per)
    source = f"{args.urlconf or 'ROOT_URLCONF'} of {settings}"
    text = table_yaml(table, legacy=args.owner_upstream, url=args.upstream_url, source=source)
    _checked(text)
    if args.out is not None:
        try:
            args.out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(
                f"cannot write {args.out}: {exc.strerror}", exit_code=ExitCode.CANNOT_RUN
            ) from exc
    if args.json_report:
        report = table.report()
        report["table"] = text
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return int(ExitCode.OK)
    if args.out is None:
        sys.stdout.write(text)
        sys.stdout.flush()  # the table before the report lines, on a terminal showing both
    _print_outcomes(table)
    return int(ExitCode.OK)


def _export(settings: str, urlconf: str | None) -> Any:
    argv = [sys.executable, "-m", "strangler.urlconf.export"]
    if urlconf:
        argv += ["--urlconf", urlconf]
    env = {**os.environ, SETTINGS_VARIABLE: settings}
    try:
        completed = subprocess.run(  # noqa: S603 - our own interpreter and module
            argv,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=EXPORT_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired as exc:
        raise CommandError(
            f"reading the URLconf of {settings} did not finish in {EXPORT_TIMEOUT_SECONDS:g} s",
            exit_code=ExitCode.CANNOT_RUN,
        ) from exc
    if completed.returncode != 0:
        lines = completed.stderr.strip().splitlines()
        reason = lines[-1] if lines else f"exit status {completed.returncode}"
        raise CommandError(
            f"cannot read the URLconf of {settings}: {reason}", exit_code=ExitCode.CANNOT_RUN
        )
    try:
        return json.loads(completed.stdout)
    except ValueError as exc:
        raise CommandError(
            f"python -m strangler.urlconf.export printed no JSON: {exc}",
            exit_code=ExitCode.CANNOT_RUN,
        ) from exc


def _checked(text: str) -> None:
    """The proxy's checker on the table; a refusal is a bug of ours, said as such."""
    with tempfile.TemporaryDirectory(prefix="strangler-from-urlconf-") as directory:
        file = Path(directory, "routes.yaml")
        file.write_text(text, encoding="utf-8")
        report = check_report(file, source="the table from the URLconf")
    errors = [f["message"] for f in report.get("findings", []) if f.get("severity") == "error"]
    if not report.get("valid") or errors:
        raise CommandError(
            "the proxy's checker refuses the table written from the URLconf (please report "
            f"it): {report.get('error') or '; '.join(errors)}",
            exit_code=ExitCode.REFUSED,
        )


def _print_outcomes(table: UrlconfTable) -> None:
    for outcome in table.outcomes:
        print(f"strangler: {outcome.line()}", file=sys.stderr)
    print(
        f"strangler: {table.patterns} URL patterns, {len(table.routes)} routes, "
        f"{len(table.outcomes)} patterns not routed exactly as Django does (listed above)",
        file=sys.stderr,
    )
