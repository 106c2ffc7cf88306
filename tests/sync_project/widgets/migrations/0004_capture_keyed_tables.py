from django.db import migrations

from strangler.sync.operations import CaptureTable


class Migration(migrations.Migration):
    dependencies = [
        ("strangler_sync", "0001_initial"),
        ("widgets", "0003_keyed_tables"),
    ]

    operations = [
        CaptureTable(table="widgets_voucher", pk="id"),
        CaptureTable(table="widgets_label", pk="code"),
        CaptureTable(table="widgets_shipment", pk="id"),
    ]
