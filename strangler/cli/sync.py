"""``strangler sync status|backfill|reconcile``: the data sync of one node, from the shell.

The work is done by the node's own management commands (``sync_status``, ``sync_backfill``,
``sync_reconcile``), which need that node's Django settings. The toolkit may not import a
service (a checked package boundary) and ``strangler routes`` must work without any Django
settings at all, so this module imports no Django: it runs ``python -m django COMMAND
--settings MODULE`` as a child process, with the settings named by string (``--settings``
or ``$DJANGO_SETTINGS_MODULE``), and passes its output and exit status through.

Exit status, as for every ``strangler`` command: 0 done (status: every stream healthy;
reconcile: no divergence left), 1 refused (status: a stream is stuck, lagging or paused, or
dead letters are parked; reconcile: diverged rows remain; backfill: refused to start),
2 could not run (no settings, a peer that cannot be reached).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from typing import Any

from strangler.cli.errors import CommandError, ExitCode

__all__ = ["SETTINGS_VARIABLE", "django_command", "register"]

SETTINGS_VARIABLE = "DJANGO_SETTINGS_MODULE"
# Status reads a few counters locally and asks each peer for its cursor (3 s timeouts each):
# a minute without an answer means the node's database or a peer hangs.
STATUS_TIMEOUT_SECONDS = 60.0


def register(groups: Any) -> None:
    sync = groups.add_parser("sync", help="data sync between the monolith and the services")
    commands = sync.add_subparsers(dest="sync_command", metavar="COMMAND", required=True)

    status = commands.add_parser(
        "status", help="backlog, lag, dead letters, paused streams and the last reconcile"
    )
    _settings_option(status)
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    status.add_argument(
        "--stuck-after",
        type=float,
        metavar="SECONDS",
        help="heartbeat age beyond which a stream counts as stuck (default: the node's setting)",
    )
    status.set_defaults(command=sync_status)

    backfill = commands.add_parser(
        "backfill",
        help="copy a model's existing rows to a peer in resumable batches, while sync runs",
    )
    _settings_option(backfill)
    backfill.add_argument("model", help="app_label.Model, as registered in outbound")
    backfill.add_argument("--to", dest="peer", metavar="PEER", help="peer node (default: the one)")
    backfill.add_argument("--batch-size", type=int, metavar="ROWS")
    backfill.add_argument(
        "--in-flight", type=int, metavar="BATCHES", help="batches the peer applies at once"
    )
    backfill.add_argument(
        "--restart", action="store_true", help="start from the first key, not where it stopped"
    )
    backfill.add_argument(
        "--max-lag",
        type=float,
        metavar="SECONDS",
        help="pause while the stream's heartbeat lag is above this",
    )
    backfill.set_defaults(command=sync_backfill)

    reconcile = commands.add_parser(
        "reconcile", help="compare a model with a peer by checksums; label and repair differences"
    )
    _settings_option(reconcile)
    reconcile.add_argument("model", help="app_label.Model, as registered in outbound")
    reconcile.add_argument(
        "--with", dest="peer", metavar="PEER", help="peer node (default: the one)"
    )
    reconcile.add_argument(
        "--full",
        action="store_true",
        help="checksum column values too, finding writes that bypassed capture",
    )
    reconcile.add_argument(
        "--repair", action="store_true", help="re-send diverged rows through the apply path"
    )
    reconcile.add_argument(
        "--prefer",
        metavar="NODE",
        help="whose copy --repair keeps: this node (default) or the peer; name the write owner",
    )
    reconcile.add_argument(
        "--settle",
        type=float,
        metavar="SECONDS",
        help="wait this long for rows in flight before the second look",
    )
    reconcile.add_argument("--json", action="store_true", help="print the report as JSON")
    reconcile.add_argument("--report", metavar="FILE", help="also write the JSON report here")
    reconcile.set_defaults(command=sync_reconcile)


def sync_status(args: argparse.Namespace) -> int:
    options = _flag("--json", args.json) + _value("--stuck-after", args.stuck_after)
    return django_command(
        "sync_status", options, settings=args.settings, timeout=STATUS_TIMEOUT_SECONDS
    )


def sync_backfill(args: argparse.Namespace) -> int:
    options = [
        args.model,
        *_value("--to", args.peer),
        *_value("--batch-size", args.batch_size),
        *_value("--in-flight", args.in_flight),
        *_value("--max-lag", args.max_lag),
        *_flag("--restart", args.restart),
    ]
    return django_command("sync_backfill", options, settings=args.settings, timeout=None)


def sync_reconcile(args: argparse.Namespace) -> int:
    options = [
        args.model,
        *_value("--with", args.peer),
        *_value("--settle", args.settle),
        *_value("--report", args.report),
        *_flag("--full", args.full),
        *_flag("--repair", args.repair),
        *_value("--prefer", args.prefer),
        *_flag("--json", args.json),
    ]
    return django_command("sync_reconcile", options, settings=args.settings, timeout=None)


def django_command(
    name: str, options: list[str], *, settings: str | None, timeout: float | None
) -> int:
    """Run ``manage.py``'s ``name`` for the node ``settings`` names; its exit status."""
    module = settings or os.environ.get(SETTINGS_VARIABLE)
    if not module:
        raise CommandError(
            f"name the node's Django settings with --settings or ${SETTINGS_VARIABLE} "
            "(e.g. --settings monolith.settings)",
            exit_code=ExitCode.CANNOT_RUN,
        )
    argv = [sys.executable, "-m", "django", name, *options, "--settings", module]
    env = {**os.environ, SETTINGS_VARIABLE: module}
    try:
        # Output goes straight to our stdout and stderr: progress lines appear as they come.
        completed = subprocess.run(argv, env=env, timeout=timeout, check=False)  # noqa: S603
    except subprocess.TimeoutExpired:
        raise CommandError(
            f"{name} did not finish within {timeout:g} s", exit_code=ExitCode.CANNOT_RUN
        ) from None
    if completed.returncode < 0:  # killed by a signal (Ctrl-C reaches the child too)
        return 130
    return completed.returncode


def _settings_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--settings",
        metavar="MODULE",
        help=f"the node's Django settings module (default: ${SETTINGS_VARIABLE})",
    )


def _flag(name: str, on: bool) -> list[str]:
    return [name] if on else []


def _value(name: str, value: object) -> list[str]:
    return [] if value is None else [name, str(value)]
