"""The commands of ``strangler routes``: ``check``, ``list``, ``set``, ``import``, ``export``,
``history`` and ``from-urlconf``, and their parser.

With ``STRANGLER_STORE_URL`` the route table lives in the shared control store: ``list``
shows every proxy replica beside the routes, ``set`` writes the store itself when no proxy
answers (or ``--offline``), and ``import``/``export``/``history`` work on the store; without
it ``import``/``export`` say they need it, and ``history`` reads the trail beside the table
file (``routes.history``).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from strangler.cli.errors import CommandError, ExitCode
from strangler.cli.routes.admin import ProxyNotRunning, admin_request
from strangler.cli.routes.agreement import ensure_serving
from strangler.cli.routes.change import routes_set as _routes_set
from strangler.cli.routes.checker import check_command, check_report, run_check
from strangler.cli.routes.fleet import fleet_from_admin, fleet_from_store
from strangler.cli.routes.from_urlconf import register_from_urlconf
from strangler.cli.routes.history import history as _history
from strangler.cli.routes.stored import (
    check_text,
    export_table,
    import_table,
)
from strangler.cli.routes.table import show
from strangler.cli.store import run_needing_store, run_with_store
from strangler.control import ControlStore
from strangler.proxy_admin import AdminLocation, admin_location, announce_admin

__all__ = [
    "register",
    "resolve_sources",
    "routes_check",
    "routes_export",
    "routes_history",
    "routes_import",
    "routes_list",
    "routes_set",
]

# `routes history` shows this many entries unless told otherwise: a screenful.
HISTORY_LIMIT = 50


def _source_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--admin",
        metavar="URL",
        default=None,
        help="the proxy's admin API (default: $STRANGLER_ADMIN_URL or "
        "http://127.0.0.1:$PROXY_ADMIN_PORT, else port 8001, said on stderr); the token "
        "comes from $PROXY_ADMIN_TOKEN",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        type=Path,
        default=None,
        help="the route table file used when the proxy is not running "
        "(default: $STRANGLER_ROUTES or routes.yaml); when given (or $STRANGLER_ROUTES), "
        "a running proxy serving another table is refused",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="use the file (with STRANGLER_STORE_URL: the store) even if the proxy is running",
    )


def resolve_sources(args: argparse.Namespace) -> AdminLocation:
    """Fill ``args.admin`` and ``args.config`` from the environment; whether the table was
    given (``args.table_given``) and where the admin URL came from."""
    location = admin_location(args.admin)
    args.admin = location.url
    named = os.environ.get("STRANGLER_ROUTES")
    args.table_given = args.config is not None or bool(named)
    if args.config is None:
        args.config = Path(named or "routes.yaml")
    return location


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    routes = groups.add_parser("routes", help="show, check and change the route table")
    commands = routes.add_subparsers(dest="routes_command", metavar="COMMAND", required=True)

    check = commands.add_parser(
        "check", help="validate a route table file: unreachable routes fail, overlaps warn"
    )
    check.add_argument("file", type=Path)
    check.add_argument("--json", action="store_true", help="print a JSON report")
    check.set_defaults(command=routes_check)

    listing = commands.add_parser("list", help="the routes, with live counters when running")
    _source_options(listing)
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(command=routes_list)

    change = commands.add_parser("set", help="change a route's owner, mode, canary or fallback")
    change.add_argument("name")
    change.add_argument("--owner", help="the upstream the route moves to")
    change.add_argument("--mode", help="monolith, shadow, canary or service")
    change.add_argument("--percent", type=float, help="the canary percentage (0-100)")
    change.add_argument("--fallback", action=argparse.BooleanOptionalAction, default=None)
    change.add_argument("--sample-rate", type=float, help="the shadow sample rate (0-1)")
    change.add_argument(
        "--write-owner",
        help="the upstream that takes the route's POST, PUT, PATCH and DELETE (refused while "
        "the sync does not carry that side's writes back)",
    )
    change.add_argument(
        "--accept-unsynced-writes",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="let a write owner take writes no sync carries back (docs/proxy.md: what it costs)",
    )
    change.add_argument("--force", action="store_true", help="allow lowering a canary percentage")
    _source_options(change)
    change.set_defaults(command=routes_set)

    load = commands.add_parser(
        "import",
        help="replace the shared store's route table with a file, checked first "
        "(needs STRANGLER_STORE_URL)",
    )
    load.add_argument("file", type=Path)
    load.set_defaults(command=routes_import)

    dump = commands.add_parser(
        "export", help="print the shared store's route table (needs STRANGLER_STORE_URL)"
    )
    dump.set_defaults(command=routes_export)

    history = commands.add_parser(
        "history",
        help="who changed the routes and holds, when, through what (the control store's "
        "trail with STRANGLER_STORE_URL, else the one beside the table file)",
    )
    _source_options(history)
    history.add_argument("--json", action="store_true", help="print JSON")
    history.add_argument(
        "--limit",
        type=int,
        default=HISTORY_LIMIT,
        metavar="N",
        help=f"the newest N entries, oldest first (default {HISTORY_LIMIT})",
    )
    history.set_defaults(command=routes_history)

    register_from_urlconf(commands)


def routes_check(args: argparse.Namespace) -> int:
    # The proxy's checker speaks for itself: its output and exit status pass straight through.
    command = check_command(*(["--json"] if args.json else []), str(args.file))
    return run_check(command, capture=False).returncode


def routes_list(args: argparse.Namespace) -> int:
    admin_at = resolve_sources(args)
    return run_with_store(lambda store: _list(args, store, admin_at))


def _list(args: argparse.Namespace, store: ControlStore | None, admin_at: AdminLocation) -> int:
    fleet = fleet_from_store(store) if store is not None else None
    if not args.offline:
        announce_admin(admin_at)
        try:
            status, payload = admin_request("GET", f"{args.admin.rstrip('/')}/routes")
        except ProxyNotRunning:
            pass
        else:
            if status != 200:
                raise CommandError(
                    f"{args.admin} answered {status}: {payload.get('message')}",
                    exit_code=ExitCode.CANNOT_RUN,
                )
            if args.table_given:
                ensure_serving(args.config, admin=args.admin, served=payload)
            if fleet is None:
                fleet = _admin_fleet(args.admin)
            return show(
                payload, source="admin", location=args.admin, json_output=args.json, fleet=fleet
            )
    record = store.read_table() if store is not None else None
    if store is not None and record is not None:
        report = check_text(
            record.text, source=f"the store's route table (version {record.version})"
        )
        if not report["valid"]:
            raise CommandError(str(report["error"]), exit_code=ExitCode.REFUSED)
        location = f"the control store at {store.where} (table version {record.version})"
        return show(report, source="store", location=location, json_output=args.json, fleet=fleet)
    if not args.config.is_file():
        raise CommandError(
            f"the proxy is not running (nothing at {args.admin}) and there is no {args.config}; "
            "start the proxy or give --config",
            exit_code=ExitCode.CANNOT_RUN,
        )
    report = check_report(args.config, source=args.config)
    if not report["valid"]:
        raise CommandError(str(report["error"]), exit_code=ExitCode.REFUSED)
    return show(
        report, source="file", location=str(args.config), json_output=args.json, fleet=fleet
    )


def _admin_fleet(admin: str) -> dict[str, Any] | None:
    """The replicas a proxy in store mode lists at ``GET /fleet``; ``None`` from any other."""
    try:
        status, payload = admin_request("GET", f"{admin.rstrip('/')}/fleet")
    except (ProxyNotRunning, CommandError):
        return None
    return fleet_from_admin(payload, location=admin) if status == 200 else None


def routes_set(args: argparse.Namespace) -> int:
    location = resolve_sources(args)
    return _routes_set(args, announce=lambda: announce_admin(location))


def routes_import(args: argparse.Namespace) -> int:
    return run_needing_store(
        lambda store: import_table(store, args.file), what="routes import writes the shared store"
    )


def routes_export(args: argparse.Namespace) -> int:
    return run_needing_store(export_table, what="routes export reads the shared store")


def routes_history(args: argparse.Namespace) -> int:
    return _history(args, resolve_sources(args))
