"""``manage.py sync_reconcile [MODEL] [--with PEER] [--full] [--repair [--prefer NODE]] [--json]``.

Compares each table with the peer by checksums over key ranges, labels every differing row
(diverged, in_flight, converged) and, with ``--repair``, settles diverged rows through the
apply path with the copy of ``--prefer`` (this node by default; name the peer when it owns
the writes, e.g. after a cutover).

Exit status: 0 nothing diverged is left; 1 diverged rows remain, or ``--prefer`` names neither
side; 2 a table could not be reconciled (the peer unreachable or refusing, a key reconcile
cannot order, a database error). A table that fails does not stop the others; with
``--json`` (and in ``--report``) the document then holds an ``errors`` list beside the
reports, and the message goes to stderr too: whoever reads the output as JSON gets JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from strangler.sync.config import sync_settings
from strangler.sync.errors import SyncError, TransportError
from strangler.sync.reconcile import Prefer, ReconcileReport, reconcile_table
from strangler.sync.sides import outbound_tables

REFUSED, CANNOT_RUN = 1, 2
# Differences printed one per line in the terminal; the JSON report has them all.
SHOWN = 20


class Command(BaseCommand):
    help = "Compare synced tables with a peer by checksums; label and repair differences."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("model", nargs="?", help="app_label.Model (default: every table)")
        parser.add_argument("--with", dest="peer", help="the peer (default: the only one)")
        parser.add_argument(
            "--full",
            action="store_true",
            help="checksum column values too (finds writes on the peer that bypassed capture)",
        )
        parser.add_argument("--repair", action="store_true", help="settle diverged rows")
        parser.add_argument(
            "--prefer",
            metavar="NODE",
            help="whose copy a repair keeps: this node (the default) or the peer; name the "
            "side that owns the writes",
        )
        parser.add_argument(
            "--settle",
            type=float,
            default=0.0,
            metavar="SECONDS",
            help="wait up to this long for rows in flight before the second look",
        )
        parser.add_argument("--json", action="store_true", help="print the JSON report")
        parser.add_argument("--report", type=Path, help="write the JSON report to this file")

    def handle(self, *args: Any, **options: Any) -> None:
        reports: list[ReconcileReport] = []
        errors: list[dict[str, str]] = []
        try:
            peer, tables = outbound_tables(
                peer=options["peer"], model=options["model"], capture=False
            )
        except SyncError as exc:
            tables, peer = (), options["peer"] or ""
            errors.append({"table": options["model"] or "", **exc.as_json()})
        prefer = _prefer(options["prefer"], peer=peer, repair=options["repair"]) if peer else None
        for table in tables:
            try:
                reports.append(
                    reconcile_table(
                        table,
                        peer=peer,
                        level="rows" if options["full"] else "keys",
                        repair=options["repair"],
                        prefer=prefer or "source",
                        settle=options["settle"],
                        progress=self._progress if options["verbosity"] > 1 else _quiet,
                    )
                )
            except (SyncError, DatabaseError) as exc:
                error = exc.as_json() if isinstance(exc, SyncError) else _database_error(exc)
                errors.append({"table": table.table, **error})
                if isinstance(exc, TransportError):
                    break  # the peer is out of reach: the other tables would fail alike
        document: dict[str, Any] = {"reports": [report.as_json() for report in reports]}
        if errors:
            document["errors"] = errors
        if options["report"] is not None:
            options["report"].write_text(json.dumps(document, indent=2) + "\n")
        if options["json"]:
            self.stdout.write(json.dumps(document, indent=2))
        else:
            for report in reports:
                self._summary(report)
        if errors:
            raise CommandError(
                "; ".join(f"{e['table'] or 'reconcile'}: {e['message']}" for e in errors),
                returncode=CANNOT_RUN,
            )
        diverged = sum(report.diverged for report in reports)
        if diverged:
            raise CommandError(
                f"{diverged} diverged row(s) remain: run again with --repair", returncode=REFUSED
            )

    def _progress(self, message: str) -> None:
        self.stdout.write(f"  {message}")

    def _summary(self, report: ReconcileReport) -> None:
        labels = report.as_json()["labels"]
        rate = max(report.rows_source, report.rows_peer) / report.seconds if report.seconds else 0
        self.stdout.write(
            f"{report.table} <-> {report.peer}: {report.state}; "
            f"{report.rows_source:,} rows here, {report.rows_peer:,} there; "
            f"diverged {labels['diverged']}, in flight {labels['in_flight']}, "
            f"converged {labels['converged']}, repaired {report.repaired}"
            f"{f' from {report.preferred}' if report.repaired else ''} "
            f"({report.seconds:.2f} s, {rate:,.0f} rows/s)"
        )
        for difference in report.differences[:SHOWN]:
            columns = f" ({', '.join(difference.columns)})" if difference.columns else ""
            repaired = (
                f", repaired as v{difference.repaired_version}"
                if difference.repaired_version is not None
                else ""
            )
            self.stdout.write(
                f"  {difference.label:<9} pk {difference.pk}: {difference.kind}{columns}, "
                f"v{difference.source_version} here, v{difference.peer_version} there{repaired}"
            )
        if len(report.differences) > SHOWN:
            self.stdout.write(f"  ... {len(report.differences) - SHOWN} more (see --json)")


def _prefer(name: str | None, *, peer: str, repair: bool) -> Prefer:
    node = sync_settings().node
    if name is None or name == node:
        return "source"
    if name != peer:
        raise CommandError(
            f"--prefer {name}: name this node ({node}) or the peer ({peer})", returncode=REFUSED
        )
    if not repair:
        raise CommandError("--prefer only says whose copy --repair keeps: add --repair")
    return "peer"


def _database_error(exc: DatabaseError) -> dict[str, str]:
    return {"code": "database_error", "message": f"{type(exc).__name__}: {exc}".strip()}


def _quiet(_: str) -> None:
    return None
