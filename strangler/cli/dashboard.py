"""The ``strangler dashboard`` command: serve the live migration dashboard.

It reads what ``strangler status`` reads (the same options; the store from
``STRANGLER_STORE_URL``, the comparison results where ``strangler compare`` finds them) once
every ``--interval`` seconds, however many pages are open, and serves the page, its JSON
and its server-sent events on ``--host``/``--port`` (docs/dashboard.md).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from strangler.cli.errors import CommandError, ExitCode
from strangler.compare.errors import CompareError
from strangler.compare.reports.common import ReportMeta
from strangler.compare.reports.html import render_html
from strangler.compare.results import ResultsLocation, open_results, results_location
from strangler.control import ControlStore, StoreError, open_control, store_url
from strangler.environment import var_dir
from strangler.overview import build_overview
from strangler.overview.poll_session import PollSession
from strangler.proxy_admin import default_admin_url
from strangler.servicekit.secret_settings import (
    PROXY_ADMIN_TOKEN,
    PROXY_SYNC_SECRET,
    SecretRefused,
    read_secrets,
)

__all__ = ["DEFAULT_PORT", "dashboard", "register"]

DEFAULT_PORT = 8002
PORT_VARIABLE = "DASHBOARD_PORT"


def _port_default() -> int:
    raw = os.environ.get(PORT_VARIABLE, "")
    return int(raw) if raw.isdigit() and 0 <= int(raw) <= 65535 else DEFAULT_PORT


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0.1 <= value <= 3600:
        raise argparse.ArgumentTypeError("give between 0.1 and 3600 seconds")
    return value


def register(groups: Any) -> None:
    text = "serve the live migration dashboard (routes, traffic, comparison, sync, plans)"
    parser = groups.add_parser("dashboard", help=text, description=text)
    parser.add_argument(
        "--plans", type=Path, default=Path("migration_plans"), metavar="DIR",
        help="the plan files (default: migration_plans/)",
    )  # fmt: skip
    parser.add_argument(
        "--state-dir", type=Path, default=None, metavar="DIR",
        help="where plan state files live (default: $STRANGLER_VAR_DIR/plans)",
    )  # fmt: skip
    parser.add_argument(
        "--admin", default=default_admin_url(), metavar="URL",
        help="the proxy's admin API (token from $PROXY_ADMIN_TOKEN)",
    )  # fmt: skip
    parser.add_argument(
        "--results", type=Path, default=None, metavar="FILE",
        help="the comparison results (default: $STRANGLER_STORE_URL, else "
        "$STRANGLER_VAR_DIR/compare/results.sqlite3)",
    )  # fmt: skip
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port", type=int, default=_port_default(),
        help=f"port to listen on (default: ${PORT_VARIABLE} or {DEFAULT_PORT})",
    )  # fmt: skip
    parser.add_argument(
        "--interval", type=_interval, default=1.0, metavar="SECONDS",
        help="seconds between two reads of the sources, shared by every open page (default 1)",
    )  # fmt: skip
    parser.add_argument(
        "--metrics-interval", type=_interval, default=5.0, metavar="SECONDS",
        help="seconds between two reads of the proxy's /metrics (default 5): rendering it is "
        "what a poll costs the proxy; routes, holds and the rest are read every --interval",
    )  # fmt: skip
    parser.set_defaults(command=dashboard)


def _open_store() -> tuple[ControlStore | None, str]:
    try:
        url = store_url()
        return (open_control(url, application_name="strangler dashboard") if url else None), ""
    except StoreError as exc:
        return None, f"{exc.message} [{exc.code}]"


def _report(location: ResultsLocation) -> str:
    try:
        with open_results(location, create=False) as store:
            reports, where = store.reports(), store.where
    except CompareError as exc:
        return render_html([], ReportMeta(title="strangler dashboard", source=str(exc)))
    return render_html(reports, ReportMeta(title="strangler dashboard", source=where))


def dashboard(args: argparse.Namespace) -> int:
    # Imported here: aiohttp is needed only by this command.
    from aiohttp import web

    from strangler.dashboard import DashboardConfig, build_app
    from strangler.dashboard.poller import Poller

    try:
        secrets = read_secrets(os.environ, (PROXY_ADMIN_TOKEN, PROXY_SYNC_SECRET))
    except SecretRefused as exc:
        raise CommandError(f"refusing to start: {exc}", exit_code=ExitCode.CANNOT_RUN) from None
    token = secrets[PROXY_ADMIN_TOKEN.name]
    if secrets[PROXY_SYNC_SECRET.name]:
        # The sync nodes' status is read signed with it (strangler.plans.sources); in demo
        # mode that is the published demo secret the stack's nodes take, as the proxy does.
        os.environ.setdefault(PROXY_SYNC_SECRET.name, secrets[PROXY_SYNC_SECRET.name])
    if not 0 <= args.port <= 65535:
        raise CommandError(f"--port {args.port}: give 0 to 65535", exit_code=ExitCode.REFUSED)
    try:
        results = results_location(args.results)
    except CompareError as exc:
        raise CommandError(str(exc), exit_code=ExitCode.REFUSED) from None
    state_dir = args.state_dir if args.state_dir is not None else var_dir() / "plans"
    store, unreachable = _open_store()
    session = PollSession(keep={"/metrics": max(args.metrics_interval, args.interval)})

    def build() -> dict[str, Any]:
        session.new_poll()
        return build_overview(
            plans_dir=args.plans, state_dir=state_dir, admin_url=args.admin, session=session,
            store=store, store_unreachable=unreachable, results=results,
        )  # fmt: skip

    config = DashboardConfig(admin_token=token, report=lambda: _report(results))

    async def serve() -> web.Application:
        return build_app(Poller(build, args.interval), config)

    def started(message: object) -> None:
        print(
            f"strangler dashboard on http://{args.host}:{args.port}/", file=sys.stderr, flush=True
        )

    try:
        web.run_app(serve(), host=args.host, port=args.port, print=started, access_log=None)
    except OSError as exc:
        raise CommandError(
            f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
            exit_code=ExitCode.CANNOT_RUN,
        ) from None
    finally:
        session.close()
        if store is not None:
            store.close()
    return int(ExitCode.OK)
