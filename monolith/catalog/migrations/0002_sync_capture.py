"""Capture every write to the catalog tables the sync sends to the catalog service (docs/sync.md)."""

from django.db import migrations

from strangler.sync.operations import CaptureTable


class Migration(migrations.Migration):
    dependencies = [
        ("strangler_sync", "0001_initial"),
        ("catalog", "0001_initial"),
    ]

    operations = [
        CaptureTable(table="catalog_category", pk="id"),
        CaptureTable(table="catalog_product", pk="id"),
    ]
