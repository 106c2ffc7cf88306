"""Capture every write to the catalog tables, for the stream back to the monolith after
cutover (docs/sync.md); until then only the sync writes them, and those writes are not
captured."""

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
