"""``manage.py sync_resume PEER [--force]``: restart a stream paused by schema drift or missing
capture, once the settings that will relay it fit (docs/sync.md, "Schema drift").

Settings are read once per process, so a fix to ``STRANGLER_SYNC`` reaches a running worker
only when it restarts; resumed before that, the worker's next pass pauses the stream again.
Before clearing the pause the command therefore checks, with the settings it loaded itself:

1. every worker seen lately holds these same settings (``strangler.sync.workers``); each one
   that does not is named, to be restarted;
2. the stream's tables fit this database (the relay's own drift and capture check);
3. the receiver would take their columns (``POST /internal/sync/columns``): a drift it
   reported is fixed in its registration, and its web processes restarted.

Any failure leaves the stream paused and exits 1 naming what to fix; ``--force`` resumes all
the same, with the findings as warnings. A receiver that cannot be reached is such a finding.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from strangler.sync.config import sync_settings
from strangler.sync.errors import CaptureMissing, ReceiverError, SchemaDrift, SyncError
from strangler.sync.models import Stream
from strangler.sync.ops_client import peer_client
from strangler.sync.relay import stream_tables
from strangler.sync.workers import workers_differing

REFUSED = 1


class Command(BaseCommand):
    help = "Clear a stream's pause once its registration or capture is fixed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("peer")
        parser.add_argument(
            "--force",
            action="store_true",
            help="resume even though a check fails (its findings are printed as warnings)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        peer = options["peer"]
        stream = Stream.objects.filter(peer=peer).first()
        if stream is None:
            raise CommandError(f"no stream to {peer!r} has run yet")
        if not stream.paused_reason:
            self.stdout.write(f"stream to {peer} is not paused; nothing to resume")
            return
        findings = _findings(peer)
        if findings and not options["force"]:
            lines = "\n".join(f"  - {finding}" for finding in findings)
            raise CommandError(
                f"stream to {peer} stays paused:\n{lines}\nfix each, then run sync_resume "
                "again (--force resumes all the same)",
                returncode=REFUSED,
            )
        for finding in findings:
            self.stderr.write(f"warning: {finding}")
        Stream.objects.filter(pk=stream.pk).update(paused_reason="")
        self.stdout.write(f"stream to {peer} resumed; the next relay pass sends")


def _findings(peer: str) -> list[str]:
    """What would pause the stream again, each with what to do about it."""
    findings = []
    now = timezone.now()
    for worker in workers_differing(now=now):
        seen = (now - worker.seen_at).total_seconds()
        findings.append(
            f"worker {worker.name} (seen {seen:.0f} s ago) holds other sync settings than "
            "this command loaded: restart it, so that it relays with them"
        )
    try:
        tables = stream_tables(peer)
    except (SchemaDrift, CaptureMissing) as exc:
        return [*findings, f"still drifting here: {exc.message}"]
    source = sync_settings().node
    try:
        peer_client(peer).columns_check(
            source=source, columns={table.table: table.columns for table in tables}
        )
    except SchemaDrift as exc:
        findings.append(
            f"{peer} still refuses the columns: {exc.message} (fix its registration, then "
            "restart its web processes)"
        )
    except ReceiverError as exc:
        if exc.http_status != 404:  # 404: a receiver older than the check; the relay will tell
            findings.append(f"{peer} could not check the columns: {exc.message}")
    except SyncError as exc:
        findings.append(f"{peer} could not be asked whether it takes the columns: {exc.message}")
    return findings
