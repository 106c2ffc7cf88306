"""``manage.py sync_status [--json]``: streams, cursors, dead letters, backfills, reconciles.

Exit status: 0 healthy, 1 not (a stream stuck, lagging or paused, dead letters parked, or a
reconcile that left divergence: the ``problems`` say which).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from strangler.sync.status import (
    LAGGING_AFTER_SECONDS,
    STUCK_AFTER_SECONDS,
    Thresholds,
    status_lines,
    status_read,
)
from strangler.sync.wire import SyncJSONEncoder

NOT_HEALTHY = 1


class Command(BaseCommand):
    help = "Show the data sync's status of this node: a table, or JSON with --json."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print the status as JSON")
        parser.add_argument(
            "--stuck-after", type=float, default=STUCK_AFTER_SECONDS, metavar="SECONDS"
        )
        parser.add_argument(
            "--lagging-after", type=float, default=LAGGING_AFTER_SECONDS, metavar="SECONDS"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        limits = Thresholds(
            lagging_after=min(options["lagging_after"], options["stuck_after"]),
            stuck_after=options["stuck_after"],
        )
        status = status_read(thresholds=limits)
        if options["json"]:
            self.stdout.write(json.dumps(status.to_json(), indent=2, cls=SyncJSONEncoder))
        else:
            self.stdout.write("\n".join(status_lines(status)))
        if not status.healthy:
            raise CommandError("the sync needs attention (see problems)", returncode=NOT_HEALTHY)
