"""``strangler routes check|list|set``: the route table, through the running proxy or its file.

``list`` and ``set`` talk to the proxy's admin API; when nothing listens there (connection
refused) they work on the file instead, and the running proxies, if any start later, load
it. The toolkit may not import the proxy (a checked package boundary), so whatever needs the
proxy's schema (``check``, reading or validating the file) runs ``python -m proxy.check`` as
a process and reads its exit status or its ``--json`` report.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from strangler import routes_file
from strangler.cli.errors import CommandError, ExitCode
from strangler.proxy_admin import ADMIN_TOKEN_VARIABLE, admin_headers, default_admin_url

__all__ = ["register", "routes_check", "routes_list", "routes_set"]

# Loopback or a LAN connects in well under 100 ms: 2 s without an answer means nobody is there.
ADMIN_CONNECT_TIMEOUT_SECONDS = 2.0
# A change may wait up to 10 s for the table's lock (routes_file.LOCK_TIMEOUT_SECONDS), then
# fsyncs; 30 s is all of that with room to spare.
ADMIN_READ_TIMEOUT_SECONDS = 30.0
# proxy.check parses one file in well under a second; a minute means it hung.
CHECK_TIMEOUT_SECONDS = 60.0


class _NotRunning(Exception):
    """Nothing listens at the admin URL: the proxy is not running."""


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


def _require_proxy_package() -> None:
    # find_spec on a top-level name only looks for it; nothing of the proxy is imported here.
    if importlib.util.find_spec("proxy") is None:
        raise CommandError(
            "the proxy package is not installed in this environment; it checks route tables",
            exit_code=ExitCode.CANNOT_RUN,
        )


def _check_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "proxy.check", *args]


def _run_check(command: list[str], *, capture: bool) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(  # noqa: S603 - our own interpreter and module
            command, capture_output=capture, text=True, check=False, timeout=CHECK_TIMEOUT_SECONDS
        )
    except subprocess.TimeoutExpired as exc:
        raise CommandError(
            f"python -m proxy.check did not finish in {CHECK_TIMEOUT_SECONDS:g} s",
            exit_code=ExitCode.CANNOT_RUN,
        ) from exc


def routes_check(args: argparse.Namespace) -> int:
    _require_proxy_package()
    # The proxy's checker speaks for itself: its output and exit status pass straight through.
    command = _check_command(*(["--json"] if args.json else []), str(args.file))
    return _run_check(command, capture=False).returncode


def _check_report(file: Path, *, source: Path) -> dict[str, Any]:
    """``proxy.check --json`` on ``file``, its messages naming ``source``."""
    _require_proxy_package()
    command = _check_command("--json", "--source", str(source), str(file))
    completed = _run_check(command, capture=True)
    try:
        report = json.loads(completed.stdout) if completed.returncode in (0, 1) else None
    except ValueError:
        report = None
    if not isinstance(report, dict):
        raise CommandError(
            f"python -m proxy.check failed (exit {completed.returncode}): "
            f"{completed.stderr.strip()}",
            exit_code=ExitCode.CANNOT_RUN,
        )
    return report


def _refused(exc: BaseException) -> bool:
    """Whether a connection error is, underneath requests and urllib3, a refused connect."""
    pending: list[object] = [exc]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        if isinstance(current, ConnectionRefusedError):
            return True
        seen.add(id(current))
        pending += [current.__cause__, current.__context__, getattr(current, "reason", None)]
        pending += current.args
    return False


def _admin(
    method: str, url: str, *, body: dict[str, object] | None = None
) -> tuple[int, dict[str, Any]]:
    headers = admin_headers()
    try:
        response = requests.request(
            method,
            url,
            json=body,
            headers=headers,
            timeout=(ADMIN_CONNECT_TIMEOUT_SECONDS, ADMIN_READ_TIMEOUT_SECONDS),
        )
    except requests.ConnectionError as exc:
        if _refused(exc):
            raise _NotRunning(url) from exc
        raise CommandError(
            f"cannot reach the proxy's admin API at {url}: {exc}", exit_code=ExitCode.CANNOT_RUN
        ) from exc
    except requests.RequestException as exc:
        raise CommandError(
            f"the proxy's admin API at {url} did not answer: {exc}", exit_code=ExitCode.CANNOT_RUN
        ) from exc
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise CommandError(
            f"{url} answered {response.status_code} without a JSON object; "
            "is it the proxy's admin API?",
            exit_code=ExitCode.CANNOT_RUN,
        )
    return response.status_code, payload


def _cells(route: dict[str, Any], with_counters: bool) -> list[str]:
    pattern = route["pattern"] + ("*" if route["kind"] == "prefix" else "")
    methods = ",".join(route["methods"]) if route["methods"] else "*"
    canary = f"{route['canary_percent']:g}%" if route["mode"] == "canary" else "-"
    sample = f"{route['shadow_sample_rate'] * 100:g}%" if route["mode"] == "shadow" else "-"
    fallback = "yes" if route["fallback"] else "no"
    cells = [route["name"], pattern, methods, route["owner"], route["mode"], canary, fallback]
    cells.append(sample)
    if with_counters:
        counters = route["counters"]
        shadow = counters["shadow"]
        cells += [
            str(counters["requests"]["total"]),
            str(counters["requests"].get("5xx", 0)),
            str(counters["fallbacks"]),
            (
                f"{shadow['match']}/{shadow['mismatch'] + shadow.get('candidate_error', 0)}"
                if route["mode"] == "shadow"
                else "-"
            ),
        ]
    return cells


def _print_table(routes: list[dict[str, Any]], *, heading: str, with_counters: bool) -> None:
    header = ["NAME", "PATTERN", "METHODS", "OWNER", "MODE", "CANARY", "FALLBACK", "SAMPLE"]
    if with_counters:
        header += ["REQUESTS", "5XX", "FALLBACKS", "SHADOW MATCH/MISMATCH"]
    rows = [header] + [_cells(route, with_counters) for route in routes]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    print(heading)
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())


def routes_list(args: argparse.Namespace) -> int:
    if not args.offline:
        try:
            status, payload = _admin("GET", f"{args.admin.rstrip('/')}/routes")
        except _NotRunning:
            pass
        else:
            if status != 200:
                raise CommandError(
                    f"{args.admin} answered {status}: {payload.get('message')}",
                    exit_code=ExitCode.CANNOT_RUN,
                )
            return _show(payload, source="admin", location=args.admin, json_output=args.json)
    if not args.config.is_file():
        raise CommandError(
            f"the proxy is not running (nothing at {args.admin}) and there is no {args.config}; "
            "start the proxy or give --config",
            exit_code=ExitCode.CANNOT_RUN,
        )
    report = _check_report(args.config, source=args.config)
    if not report["valid"]:
        raise CommandError(str(report["error"]), exit_code=ExitCode.REFUSED)
    return _show(report, source="file", location=str(args.config), json_output=args.json)


def _show(payload: dict[str, Any], *, source: str, location: str, json_output: bool) -> int:
    routes: list[dict[str, Any]] = payload["routes"]
    if json_output:
        out = {"source": source, "location": location, "legacy": payload["legacy"]}
        print(json.dumps({**out, "routes": routes}, indent=2))
        return ExitCode.OK
    heading = (
        f"Routes of the running proxy ({location}), most specific first:"
        if source == "admin"
        else f"Routes in {location} (the proxy is not running), most specific first:"
    )
    _print_table(routes, heading=heading, with_counters=source == "admin")
    print(f"Anything else goes to {payload['legacy']!r}.")
    return ExitCode.OK


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
        except _NotRunning:
            pass
    return _set_in_file(args, change)


def _set_through_admin(args: argparse.Namespace, change: routes_file.RouteChange) -> int:
    url = f"{args.admin.rstrip('/')}/routes/{quote(args.name, safe='')}"
    body: dict[str, object] = dict(change.items())
    if args.force:
        body["force"] = True
    status, payload = _admin("PATCH", url, body=body)
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
                report = _check_report(staged, source=path)
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
