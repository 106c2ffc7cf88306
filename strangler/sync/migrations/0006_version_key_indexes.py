"""The version indexes again, for every key reconcile orders (``strangler.sync.version_index``).

0003 indexed integer keys of at most 18 digits on PostgreSQL: a ``bigint`` key from 10**18 up
was left out, so its version never reached a range sum there. This drops that index and makes
it again over every integer key, with a second index for UUID and text keys in code-point order.
"""

from django.db import migrations

from strangler.sync.operations import VersionKeyIndex


class Migration(migrations.Migration):
    dependencies = [
        ("strangler_sync", "0005_seen_signature"),
    ]

    operations = [VersionKeyIndex(rebuild=True)]
