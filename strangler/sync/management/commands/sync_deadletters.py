"""``manage.py sync_deadletters list|replay|drop [ID ...] [--all]``: handle parked changes."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from strangler.sync.deadletters import deadletters_drop, deadletters_replay
from strangler.sync.models import DeadLetter


class Command(BaseCommand):
    help = (
        "List parked changes, replay them in order per row, or drop them (kept on record). "
        "Replaying an id replays the row's earlier parked changes first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["list", "replay", "drop"])
        parser.add_argument("ids", nargs="*", type=int, help="dead letter ids")
        parser.add_argument("--all", action="store_true", help="every parked letter")
        parser.add_argument("--status", default="parked", help="list: parked, replayed, dropped")
        parser.add_argument("--reason", default="", help="drop: why, kept with the record")

    def handle(self, *args: Any, **options: Any) -> None:
        action, ids = options["action"], options["ids"] or None
        if action == "list":
            self._list(options["status"], ids)
            return
        if ids is None and not options["all"]:
            raise CommandError(f"{action}: name dead letter ids, or say --all")
        if action == "replay":
            result = deadletters_replay(ids=ids)
            self.stdout.write(f"replayed {result.replayed}, failed again {result.failed}")
            if result.failed:
                raise CommandError("some letters failed again; see 'list' for their errors")
        else:
            dropped = deadletters_drop(ids=ids, reason=options["reason"])
            self.stdout.write(f"dropped {dropped}")

    def _list(self, status: str, ids: list[int] | None) -> None:
        letters = DeadLetter.objects.filter(status=status).order_by("id")
        if ids is not None:
            letters = letters.filter(id__in=ids)
        for letter in letters:
            self.stdout.write(
                json.dumps(
                    {
                        "id": letter.id,
                        "source": letter.source,
                        "table": letter.table_name,
                        "pk": letter.row_pk,
                        "version": letter.version,
                        "deleted": letter.deleted,
                        "code": letter.code,
                        "error": letter.error,
                        "attempts": letter.attempts,
                        "status": letter.status,
                    }
                )
            )
