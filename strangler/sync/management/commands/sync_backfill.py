"""``manage.py sync_backfill [MODEL] [--to PEER]``: copy existing rows to a peer, resumably.

Without a model, every table of the stream is copied in registration order (parents before
children, as the registration lists them). Prints rows, rate and ETA as it goes. Exit status:
0 done, 1 refused (unknown table, schema drift, no capture), 2 the peer could not be reached.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from strangler.sync.backfill import (
    BATCH_SIZE,
    DEFAULT_MAX_LAG_SECONDS,
    IN_FLIGHT,
    BackfillTick,
    backfill_table,
)
from strangler.sync.errors import SyncError, TransportError
from strangler.sync.sides import outbound_tables

# One progress line a second is readable and keeps a log of a long backfill short.
PRINT_EVERY_SECONDS = 1.0
REFUSED, CANNOT_RUN = 1, 2


class Command(BaseCommand):
    help = "Copy a model's existing rows to a peer in resumable batches, while the sync runs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("model", nargs="?", help="app_label.Model (default: every table)")
        parser.add_argument("--to", dest="peer", help="the peer (default: the only one)")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
        parser.add_argument(
            "--in-flight",
            type=int,
            default=IN_FLIGHT,
            help="batches sent before the first is acknowledged (the peer applies them at once)",
        )
        parser.add_argument(
            "--max-lag",
            type=float,
            default=DEFAULT_MAX_LAG_SECONDS,
            help="wait while the stream's heartbeat lag is above this many seconds (0: never)",
        )
        parser.add_argument("--restart", action="store_true", help="start from the first key again")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1", returncode=REFUSED)
        if options["in_flight"] < 1:
            raise CommandError("--in-flight must be at least 1", returncode=REFUSED)
        try:
            peer, tables = outbound_tables(peer=options["peer"], model=options["model"])
            for table in tables:
                printer = _Printer(self)
                record = backfill_table(
                    table,
                    peer=peer,
                    batch_size=options["batch_size"],
                    in_flight=options["in_flight"],
                    restart=options["restart"],
                    max_lag=options["max_lag"],
                    progress=printer,
                )
                self.stdout.write(
                    f"{table.table} -> {peer}: done, {record.rows_done:,} rows "
                    f"(applied {record.applied:,}, stale {record.stale:,}, "
                    f"dead-lettered {record.dead_lettered:,}) in {printer.elapsed():.1f} s"
                )
        except TransportError as exc:
            raise CommandError(
                f"{exc.message} (progress is kept: run again to resume)", returncode=CANNOT_RUN
            ) from exc
        except SyncError as exc:
            raise CommandError(exc.message, returncode=REFUSED) from exc


class _Printer:
    """Progress lines, at most one a second (the last one always)."""

    def __init__(self, command: BaseCommand) -> None:
        self.command = command
        self.started = self.last = time.monotonic()
        self.printed_any = False

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def __call__(self, tick: BackfillTick) -> None:
        now = time.monotonic()
        if tick.done or (self.printed_any and now - self.last < PRINT_EVERY_SECONDS):
            return
        self.last, self.printed_any = now, True
        head = f"{tick.table} -> {tick.peer}:"
        if tick.lag_seconds is not None:
            self.command.stdout.write(
                f"{head} throttled, stream lag {tick.lag_seconds:.1f} s; waiting "
                f"({tick.rows_done:,}/{tick.rows_total:,} rows)"
            )
            return
        share = 100.0 * tick.rows_done / tick.rows_total if tick.rows_total else 100.0
        eta = "-" if tick.eta_seconds is None else f"{tick.eta_seconds:.0f} s"
        self.command.stdout.write(
            f"{head} {tick.rows_done:,}/{tick.rows_total:,} rows ({share:.1f}%), "
            f"{tick.rows_per_second:,.0f} rows/s, ETA {eta}"
        )
