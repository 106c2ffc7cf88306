"""``strangler routes history``: who changed the routes and holds, when, through what.

With ``STRANGLER_STORE_URL`` the trail is the control store's. With the file store it is
the file beside the table (:mod:`strangler.audit_file`): read directly when the table is
named (``--config``, ``$STRANGLER_ROUTES``) or with ``--offline``; otherwise asked of the
running proxy's admin API (``GET /audit``, with the admin token: entries name people),
which also serves a CLI on another host, and read from ``routes.yaml``'s trail when no
proxy runs. A trail whose hash chain is broken is printed, then refused (exit 1).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from strangler import audit_file
from strangler.cli.errors import CommandError, ExitCode
from strangler.cli.routes.admin import ProxyNotRunning, admin_request
from strangler.cli.routes.stored import print_history, show_history
from strangler.cli.store import run_with_store
from strangler.control import ControlStore
from strangler.proxy_admin import ADMIN_TOKEN_VARIABLE, AdminLocation, announce_admin

__all__ = ["history"]


def history(args: argparse.Namespace, location: AdminLocation) -> int:
    """``args.admin`` and ``args.config`` resolved (``commands.resolve_sources``)."""
    if args.limit < 1:
        raise CommandError("--limit: give 1 or more", exit_code=ExitCode.CANNOT_RUN)

    def run(store: ControlStore | None) -> int:
        if store is not None:
            return print_history(store, limit=args.limit, json_output=args.json)
        if args.offline or args.table_given:
            return _from_file(args.config, args)
        announce_admin(location)
        try:
            status, payload = admin_request(
                "GET", f"{args.admin.rstrip('/')}/audit?limit={args.limit}"
            )
        except ProxyNotRunning:
            return _from_file(args.config, args)
        if status != 200:
            message = f"{payload.get('message')} [{payload.get('code')}]"
            if status in (401, 403):
                message += (
                    f"; the token is read from ${ADMIN_TOKEN_VARIABLE} (or give --config FILE "
                    "to read the trail beside a table on this host)"
                )
            raise CommandError(
                f"{args.admin} refused the audit trail: {message}",
                exit_code=ExitCode.REFUSED if status < 500 else ExitCode.CANNOT_RUN,
            )
        where = f"the proxy at {args.admin} ({payload.get('store')})"
        return show_history(
            list(payload.get("entries") or []),
            where=where,
            store=str(payload.get("store")),
            json_output=args.json,
            problem=payload.get("problem"),
        )

    return run_with_store(run)


def _from_file(table: Path, args: argparse.Namespace) -> int:
    if not table.is_file():
        raise CommandError(
            f"no route table at {table} (nor a proxy running at {args.admin}): give --config "
            "FILE, the table whose audit trail to read",
            exit_code=ExitCode.CANNOT_RUN,
        )
    try:
        trail = audit_file.read_trail(table, limit=args.limit)
    except OSError as exc:
        raise CommandError(
            f"cannot read {audit_file.audit_path(table)}: {exc.strerror or exc}",
            exit_code=ExitCode.CANNOT_RUN,
        ) from exc
    return show_history(
        [entry.as_json() for entry in trail.entries],
        where=str(trail.path),
        store=str(trail.path),
        json_output=args.json,
        problem=trail.problem,
    )
