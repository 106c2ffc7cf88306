"""Capture every write to the inventory tables the sync sends to the catalog service (docs/sync.md)."""

from django.db import migrations

from strangler.sync.operations import CaptureTable


class Migration(migrations.Migration):
    dependencies = [
        ("strangler_sync", "0001_initial"),
        ("inventory", "0001_initial"),
    ]

    operations = [
        CaptureTable(table="inventory_stocklevel", pk="id"),
    ]
