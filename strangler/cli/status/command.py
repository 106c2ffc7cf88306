"""The ``strangler status`` command: its options, the sources it opens, its exit status."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console

from strangler.cli.errors import ExitCode
from strangler.cli.status.render import PIPE_WIDTH, render
from strangler.control import ControlStore, StoreError, open_control, store_url
from strangler.environment import var_dir
from strangler.overview import build_overview, could_read_anything
from strangler.overview.poll_session import PollSession
from strangler.proxy_admin import default_admin_url

__all__ = ["register", "status"]


def register(groups: Any) -> None:
    text = "the migration at a glance: routes, traffic, plans and their gates, sync, fleet"
    parser = groups.add_parser("status", help=text, description=text)
    parser.add_argument(
        "--plans", type=Path, default=Path("migration_plans"), metavar="DIR",
        help="the plan files (default: migration_plans/)",
    )  # fmt: skip
    parser.add_argument(
        "--state-dir", type=Path, default=None, metavar="DIR",
        help="where plan state files live (default: $STRANGLER_VAR_DIR/plans); with "
        "STRANGLER_STORE_URL set, plan state lives in the shared store instead",
    )  # fmt: skip
    parser.add_argument(
        "--admin", default=default_admin_url(), metavar="URL",
        help="the proxy's admin API (token from $PROXY_ADMIN_TOKEN)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="one JSON document")
    parser.set_defaults(command=status)


@contextlib.contextmanager
def _store() -> Iterator[tuple[ControlStore | None, str]]:
    """``(the store STRANGLER_STORE_URL names, "")``, ``(None, "")`` when it is unset, or
    ``(None, why)`` when it cannot be opened: the rest is still worth showing."""
    try:
        url = store_url()
        store = open_control(url, application_name="strangler status") if url else None
    except StoreError as exc:
        yield None, f"{exc.message} [{exc.code}]"
        return
    try:
        yield store, ""
    finally:
        if store is not None:
            store.close()


def status(args: argparse.Namespace) -> int:
    state_dir = args.state_dir if args.state_dir is not None else var_dir() / "plans"
    with PollSession() as session, _store() as (store, unreachable):
        document = build_overview(
            plans_dir=args.plans, state_dir=state_dir, admin_url=args.admin, session=session,
            store=store, store_unreachable=unreachable,
        )  # fmt: skip
    if args.json:
        print(json.dumps(document, indent=2, default=str))
    else:
        width = None if sys.stdout.isatty() else PIPE_WIDTH
        render(document, Console(file=sys.stdout, width=width, highlight=False))
    return int(ExitCode.OK if could_read_anything(document) else ExitCode.CANNOT_RUN)
