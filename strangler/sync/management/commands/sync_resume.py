"""``manage.py sync_resume PEER``: restart a stream paused by schema drift or missing capture."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from strangler.sync.models import Stream


class Command(BaseCommand):
    help = "Clear a stream's pause once its registration or capture is fixed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("peer")

    def handle(self, *args: Any, **options: Any) -> None:
        updated = Stream.objects.filter(peer=options["peer"]).update(paused_reason="")
        if not updated:
            raise CommandError(f"no stream to {options['peer']!r} has run yet")
        self.stdout.write(f"stream to {options['peer']} resumed; the next relay pass sends")
