"""An index on ``strangler_sync_row`` by table and integer key, for reconcile's range sums.

Reconcile sums the live versions of a key range without joining the synced table
(``checksums.py``): that needs ``strangler_sync_row``'s rows of one table in integer key order,
which the unique ``(table_name, pk)`` index (text order) cannot give. The key is text because
tables with other keys share the table; on PostgreSQL only keys that read as a ``bigint`` are
indexed (the ``CASE`` keeps the cast from failing on the others), on SQLite ``CAST`` never fails.
Neither indexes ``version`` or ``deleted``, so the capture triggers' updates stay HOT on
PostgreSQL.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from strangler.sync.checksums import INT_KEY_INDEX, INT_KEY_PATTERN, int_key_expression


def index_create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    key = int_key_expression("pk", postgresql=vendor == "postgresql")
    where = f" WHERE pk ~ '{INT_KEY_PATTERN}'" if vendor == "postgresql" else ""
    schema_editor.execute(
        f"CREATE INDEX {INT_KEY_INDEX} ON strangler_sync_row (table_name, ({key})){where}"
    )


def index_drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    schema_editor.execute(f"DROP INDEX IF EXISTS {INT_KEY_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("strangler_sync", "0002_backfill_reconcile_operator"),
    ]

    operations = [migrations.RunPython(index_create, index_drop, elidable=False)]
