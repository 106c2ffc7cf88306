from django.db import migrations

from strangler.sync.operations import CaptureTable


class Migration(migrations.Migration):
    dependencies = [
        ("strangler_sync", "0001_initial"),
        ("widgets", "0001_initial"),
    ]

    operations = [
        CaptureTable(table="widgets_widget", pk="id"),
        CaptureTable(table="widgets_part", pk="id"),
    ]
