"""The commands of ``strangler routes``: ``check``, ``list`` and ``set``, and their parser."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from urllib.parse import quote

from strangler import routes_file
from strangler.cli.errors import CommandError, ExitCode
from strangler.cli.routes.admin import ProxyNotRunning, admin_request
from strangler.cli.routes.checker import check_command, check_report, run_check
from strangler.cli.routes.table import show
from strangler.proxy_admin import ADMIN_TOKEN_VARIABLE, default_admin_url

__all__ = ["register", "routes_check", "routes_list", "routes_set"]


def _source_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--admin",
        metavar="URL",
        default=default_admin_url(),
        help="the proxy's admin API (default: $STRANGLER_ADMIN_URL or "
        "http://127.0.0.1:$PROXY_ADMIN_PORT, port 8001); the token comes from "
        "$PROXY_ADMIN_TOKEN",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        type=Path,
        default=Path(os.environ.get("STRANGLER_ROUTES") or "routes.yaml"),
        help="the route table file used when the proxy is not running "
        "(default: $STRANGLER_ROUTES or routes.yaml)",
    )
    parser.add_argument(
        "--offline", action="store_true", help="use the file even if the proxy is running"
    )


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


def routes_check(args: argparse.Namespace) -> int:
    # The proxy's checker speaks for itself: its output and exit status pass straight through.
    command = check_command(*(["--json"] if args.json else []), str(args.file))
    return run_check(command, capture=False).returncode


def routes_list(args: argparse.Namespace) -> int:
    if not args.offline:
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
            return show(payload, source="admin", location=args.admin, json_output=args.json)
    if not args.config.is_file():
        raise CommandError(
            f"the proxy is not running (nothing at {args.admin}) and there is no {args.config}; "
            "start the proxy or give --config",
            exit_code=ExitCode.CANNOT_RUN,
        )
    report = check_report(args.config, source=args.config)
    if not report["valid"]:
        raise CommandError(str(report["error"]), exit_code=ExitCode.REFUSED)
    return show(report, source="file", location=str(args.config), json_output=args.json)


def _describe(change: routes_file.RouteChange) -> str:
    def text(value: object) -> str:
        if isinstance(value, bool):
            return "on" if value else "off"
        return f"{value:g}" if isinstance(value, float) else str(value)

    return ", ".join(f"{key} {text(value)}" for key, value in change.items())


def routes_set(args: argparse.Namespace) -> int:
    change = routes_file.RouteChange(
        owner=args.owner,
        mode=args.mode,
        canary_percent=args.percent,
        fallback=args.fallback,
        shadow_sample_rate=args.sample_rate,
        write_owner=args.write_owner,
        unsynced_writes_accepted=args.accept_unsynced_writes,
    )
    if not change.items():
        raise CommandError(
            "nothing to change: give --owner, --mode, --percent, --fallback/--no-fallback, "
            "--sample-rate or --write-owner",
            exit_code=ExitCode.CANNOT_RUN,
        )
    if not args.offline:
        try:
            return _set_through_admin(args, change)
        except ProxyNotRunning:
            pass
    return _set_in_file(args, change)


def _set_through_admin(args: argparse.Namespace, change: routes_file.RouteChange) -> int:
    url = f"{args.admin.rstrip('/')}/routes/{quote(args.name, safe='')}"
    body: dict[str, object] = dict(change.items())
    if args.force:
        body["force"] = True
    status, payload = admin_request("PATCH", url, body=body)
    if status == 200:
        done = "changed" if payload["changed"] else "unchanged, already so"
        print(f"route {args.name}: {_describe(change)}: {done} (through the proxy at {args.admin})")
        return ExitCode.OK
    message = f"{payload.get('message')} [{payload.get('code')}]"
    if status in (401, 403):
        message += f"; the token is read from ${ADMIN_TOKEN_VARIABLE}"
    raise CommandError(
        f"refused: {message}" if status < 500 else f"the proxy failed: {message}",
        exit_code=ExitCode.REFUSED if status < 500 else ExitCode.CANNOT_RUN,
    )


def _set_in_file(args: argparse.Namespace, change: routes_file.RouteChange) -> int:
    path: Path = args.config
    try:
        with routes_file.locked(path):
            text = path.read_text(encoding="utf-8")
            edited = routes_file.edit_route(text, args.name, change, force=args.force)
            if edited == text:
                print(f"route {args.name} in {path}: {_describe(change)}: unchanged, already so")
                return ExitCode.OK
            staged = routes_file.stage(path, edited)
            try:
                report = check_report(staged, source=path)
                if not report["valid"]:
                    raise CommandError(
                        f"refused, {path} is unchanged: {report['error']}",
                        exit_code=ExitCode.REFUSED,
                    )
                routes_file.commit(staged, path)
            finally:
                staged.unlink(missing_ok=True)
    except routes_file.TableBusy as exc:
        raise CommandError(exc.message, exit_code=ExitCode.CANNOT_RUN) from exc
    except routes_file.RoutesFileError as exc:
        raise CommandError(f"refused: {path}: {exc.message}", exit_code=ExitCode.REFUSED) from exc
    except OSError as exc:
        raise CommandError(
            f"cannot edit {path}: {exc.strerror or exc}", exit_code=ExitCode.CANNOT_RUN
        ) from exc
    print(
        f"route {args.name} in {path}: {_describe(change)} "
        "(the proxy was not reached; a running proxy loads the file within a second)"
    )
    return ExitCode.OK
