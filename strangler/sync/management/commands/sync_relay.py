"""``manage.py sync_relay [--peer NAME]``: one relay pass in the foreground, for ops and tests."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from strangler.sync.errors import SyncError
from strangler.sync.relay import PASS_BUDGET_SECONDS, RelayResult, relay_all, relay_stream


class Command(BaseCommand):
    help = "Run one relay pass over one stream (or all) and print what it did as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--peer", help="only the stream to this peer")
        parser.add_argument(
            "--budget", type=float, default=PASS_BUDGET_SECONDS, help="seconds to spend at most"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        peer, budget = options["peer"], options["budget"]
        try:
            results = (
                [relay_stream(peer, budget_seconds=budget)]
                if peer
                else relay_all(budget_seconds=budget)
            )
        except (SyncError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps([_json(r) for r in results], indent=2))
        if any(r.stopped in ("error", "paused") for r in results):
            raise CommandError("a stream did not relay: see 'stopped' and 'error' above")


def _json(result: RelayResult) -> dict[str, Any]:
    data = asdict(result)
    data["cursor"] = result.cursor.as_json() if result.cursor else None
    return data
