"""``manage.py sync_check``: every outbound table is captured and its columns all registered."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from strangler.sync.config import model_for, sync_settings
from strangler.sync.schema import outbound_columns_problems
from strangler.sync.triggers import capture_installed


class Command(BaseCommand):
    help = "Check that every outbound table has its capture triggers and registered columns."

    def handle(self, *args: Any, **options: Any) -> None:
        problems: list[str] = []
        for entry in sync_settings().outbound:
            table = model_for(entry.model)._meta.db_table
            found = outbound_columns_problems(entry)
            if not capture_installed(connection, table=table):
                found.insert(0, f"{table}: no capture triggers (add CaptureTable to a migration)")
            problems.extend(found)
            if not found:
                self.stdout.write(f"ok  {table} -> {entry.peer}")
        for problem in problems:
            self.stderr.write(f"!!  {problem}")
        if problems:
            raise CommandError(f"{len(problems)} problem(s) with the sync registration")
