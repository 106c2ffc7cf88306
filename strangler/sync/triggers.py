"""The capture triggers' SQL for SQLite, PostgreSQL and MySQL/MariaDB (docs/sync.md, "Capture").

Each firing bumps ``strangler_sync_row(table, pk)`` and appends a ``strangler_sync_change`` row
with the new version, in the writer's transaction. An ``UPDATE`` that changes the primary key is
a delete of the old key and a write of the new one. Writes made by apply are not captured: on
SQLite the triggers see a row in ``strangler_sync_applying`` (visible only to the transaction
that wrote it); on PostgreSQL the function sees ``strangler.applying = 'on'``; on MySQL/MariaDB
the triggers see the session variable ``@strangler_sync_applying`` set (``marking``).

On PostgreSQL ``TRUNCATE`` fires no row trigger, so a ``BEFORE TRUNCATE`` trigger refuses it
unless the session says ``SET strangler.allow_truncate = 'on'`` (a deliberate act, after which
the peer needs a backfill; the test suite's flush between tests is one). MySQL and MariaDB
have no ``TRUNCATE`` trigger: a ``TRUNCATE`` there goes unseen, and the peer needs a backfill
(``sync_reconcile --repair`` finds and mends what it left different).
"""

from __future__ import annotations

import re

from django.db.backends.base.base import BaseDatabaseWrapper

__all__ = [
    "MYSQL_APPLYING",
    "capture_drop_statements",
    "capture_install",
    "capture_install_statements",
    "capture_installed",
    "functions_drop_statements",
    "functions_install_statements",
    "validate_identifier",
]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
# SQLite keeps datetimes as text; this is the form Django writes and reads back.
_SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
_PG_CAPTURE = "strangler_sync_capture"
_PG_TRUNCATE = "strangler_sync_refuse_truncate"
# The MySQL/MariaDB session variable that silences the triggers while apply writes (``marking``).
MYSQL_APPLYING = "@strangler_sync_applying"

_PG_FUNCTIONS = """
CREATE OR REPLACE FUNCTION strangler_sync_capture() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    pk_column text := TG_ARGV[0];
    old_pk text;
    new_pk text;
    writer bigint;
    v bigint;
BEGIN
    IF current_setting('strangler.applying', true) = 'on' THEN
        RETURN NULL;
    END IF;
    writer := pg_current_xact_id()::text::bigint;
    IF TG_OP <> 'INSERT' THEN old_pk := to_jsonb(OLD) ->> pk_column; END IF;
    IF TG_OP <> 'DELETE' THEN new_pk := to_jsonb(NEW) ->> pk_column; END IF;
    IF old_pk IS NOT NULL AND old_pk IS DISTINCT FROM new_pk THEN
        INSERT INTO strangler_sync_row AS r (table_name, pk, version, deleted, updated_at)
        VALUES (TG_TABLE_NAME, old_pk, 1, true, now())
        ON CONFLICT (table_name, pk) DO UPDATE
            SET version = r.version + 1, deleted = true, updated_at = EXCLUDED.updated_at
        RETURNING r.version INTO v;
        INSERT INTO strangler_sync_change (table_name, pk, version, deleted, xid, created_at)
        VALUES (TG_TABLE_NAME, old_pk, v, true, writer, now());
    END IF;
    IF new_pk IS NOT NULL THEN
        INSERT INTO strangler_sync_row AS r (table_name, pk, version, deleted, updated_at)
        VALUES (TG_TABLE_NAME, new_pk, 1, false, now())
        ON CONFLICT (table_name, pk) DO UPDATE
            SET version = r.version + 1, deleted = false, updated_at = EXCLUDED.updated_at
        RETURNING r.version INTO v;
        INSERT INTO strangler_sync_change (table_name, pk, version, deleted, xid, created_at)
        VALUES (TG_TABLE_NAME, new_pk, v, false, writer, now());
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION strangler_sync_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('strangler.allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'TRUNCATE of % is refused: it bypasses strangler.sync capture', TG_TABLE_NAME
        USING HINT = 'Delete the rows instead, or SET strangler.allow_truncate = on and '
                     'backfill the peer afterwards.';
END;
$$;
"""


def validate_identifier(name: str, *, what: str) -> str:
    """``name`` if it is a plain SQL identifier; the triggers embed it in their SQL."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"{what}={name!r}: expected a plain identifier ([A-Za-z_][A-Za-z0-9_]*)")
    return name


def functions_install_statements(vendor: str) -> list[str]:
    """The shared PostgreSQL functions (none on SQLite, whose triggers are inline)."""
    return [_PG_FUNCTIONS] if vendor == "postgresql" else []


def functions_drop_statements(vendor: str) -> list[str]:
    if vendor != "postgresql":
        return []
    return [f"DROP FUNCTION IF EXISTS {_PG_CAPTURE}()", f"DROP FUNCTION IF EXISTS {_PG_TRUNCATE}()"]


def capture_install_statements(vendor: str, *, table: str, pk: str) -> list[str]:
    validate_identifier(table, what="table")
    validate_identifier(pk, what="pk")
    return _install_statements(vendor, table, pk)


def capture_drop_statements(vendor: str, *, table: str) -> list[str]:
    validate_identifier(table, what="table")
    if vendor == "postgresql":
        return [
            f'DROP TRIGGER IF EXISTS {_PG_CAPTURE} ON "{table}"',
            f'DROP TRIGGER IF EXISTS {_PG_TRUNCATE} ON "{table}"',
        ]
    if vendor == "mysql":
        return [f"DROP TRIGGER IF EXISTS `{name}`" for name in _sqlite_trigger_names(table)]
    return [f'DROP TRIGGER IF EXISTS "{name}"' for name in _sqlite_trigger_names(table)]


def capture_install(connection: BaseDatabaseWrapper, *, table: str, pk: str) -> None:
    """Install (idempotently) outside a migration: the post-migrate repair uses it."""
    with connection.cursor() as cursor:
        for statement in capture_install_statements(connection.vendor, table=table, pk=pk):
            cursor.execute(statement)


def capture_installed(connection: BaseDatabaseWrapper, *, table: str) -> bool:
    """Whether every capture trigger of ``table`` exists (and, on PostgreSQL, is enabled)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass(%s) "
                "AND NOT tgisinternal AND tgenabled <> 'D'",
                [f'"{table}"'],
            )
            return {row[0] for row in cursor.fetchall()} >= {_PG_CAPTURE, _PG_TRUNCATE}
        if connection.vendor == "mysql":
            cursor.execute(
                "SELECT trigger_name FROM information_schema.triggers "
                "WHERE event_object_schema = DATABASE() AND event_object_table = %s",
                [table],
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table]
            )
        return {row[0] for row in cursor.fetchall()} >= set(_sqlite_trigger_names(table))


def _install_statements(vendor: str, table: str, pk: str) -> list[str]:
    if vendor == "postgresql":
        return [
            f"CREATE OR REPLACE TRIGGER {_PG_CAPTURE} AFTER INSERT OR UPDATE OR DELETE "
            f"ON \"{table}\" FOR EACH ROW EXECUTE FUNCTION {_PG_CAPTURE}('{pk}')",
            f'CREATE OR REPLACE TRIGGER {_PG_TRUNCATE} BEFORE TRUNCATE ON "{table}" '
            f"FOR EACH STATEMENT EXECUTE FUNCTION {_PG_TRUNCATE}()",
        ]
    if vendor == "mysql":
        return _mysql_install_statements(table, pk)
    if vendor != "sqlite":
        raise NotImplementedError(
            f"strangler.sync captures on SQLite, PostgreSQL and MySQL/MariaDB, not {vendor}"
        )
    insert, update, delete = _sqlite_trigger_names(table)
    quiet = "NOT EXISTS (SELECT 1 FROM strangler_sync_applying)"
    write_new = _sqlite_bump(table, "NEW", pk, deleted=False, when="1")
    delete_old = _sqlite_bump(table, "OLD", pk, deleted=True, when=f'OLD."{pk}" IS NOT NEW."{pk}"')
    return [
        f'CREATE TRIGGER IF NOT EXISTS "{insert}" AFTER INSERT ON "{table}" WHEN {quiet} '
        f"BEGIN {write_new} END",
        f'CREATE TRIGGER IF NOT EXISTS "{update}" AFTER UPDATE ON "{table}" WHEN {quiet} '
        f"BEGIN {delete_old} {write_new} END",
        f'CREATE TRIGGER IF NOT EXISTS "{delete}" AFTER DELETE ON "{table}" WHEN {quiet} '
        f"BEGIN {_sqlite_bump(table, 'OLD', pk, deleted=True, when='1')} END",
    ]


def _sqlite_bump(table: str, ref: str, pk: str, *, deleted: bool, when: str) -> str:
    """Bump the row's version and log the change, for ``ref`` (NEW or OLD) when ``when``."""
    key = f'CAST({ref}."{pk}" AS TEXT)'
    flag = 1 if deleted else 0
    # An INSERT ... SELECT inside a trigger needs its WHERE before ON CONFLICT to parse.
    return (
        f"INSERT INTO strangler_sync_row (table_name, pk, version, deleted, updated_at) "  # noqa: S608
        f"SELECT '{table}', {key}, 1, {flag}, {_SQLITE_NOW} WHERE {when} "
        f"ON CONFLICT (table_name, pk) DO UPDATE SET version = version + 1, "
        f"deleted = {flag}, updated_at = excluded.updated_at; "
        f"INSERT INTO strangler_sync_change (table_name, pk, version, deleted, xid, created_at) "
        f"SELECT table_name, pk, version, {flag}, 0, updated_at FROM strangler_sync_row "
        f"WHERE {when} AND table_name = '{table}' AND pk = {key};"
    )


def _sqlite_trigger_names(table: str) -> tuple[str, str, str]:
    return (
        f"strangler_sync_{table}_insert",
        f"strangler_sync_{table}_update",
        f"strangler_sync_{table}_delete",
    )


def _mysql_install_statements(table: str, pk: str) -> list[str]:
    """One trigger per event; ``CREATE OR REPLACE`` (MariaDB 10.1.4+, not MySQL) is avoided."""
    insert, update, delete = _sqlite_trigger_names(table)
    quiet = f"{MYSQL_APPLYING} IS NULL"
    # An inserted row's key is new as a rule: upsert at once. An updated or deleted row's
    # version row is there as a rule: bump it by key (see _mysql_bump).
    inserted = _mysql_bump(table, "NEW", pk, deleted=False, seen=False)
    write_new = _mysql_bump(table, "NEW", pk, deleted=False, seen=True)
    delete_old = _mysql_bump(table, "OLD", pk, deleted=True, seen=True)
    moved = f"NOT (OLD.`{pk}` <=> NEW.`{pk}`)"
    bodies = {
        insert: ("INSERT", f"IF {quiet} THEN {inserted} END IF;"),
        update: (
            "UPDATE",
            f"IF {quiet} THEN IF {moved} THEN {delete_old} END IF; {write_new} END IF;",
        ),
        delete: ("DELETE", f"IF {quiet} THEN {delete_old} END IF;"),
    }
    statements: list[str] = []
    for name, (event, body) in bodies.items():
        statements.append(f"DROP TRIGGER IF EXISTS `{name}`")
        statements.append(
            f"CREATE TRIGGER `{name}` AFTER {event} ON `{table}` FOR EACH ROW BEGIN {body} END"
        )
    return statements


def _mysql_bump(table: str, ref: str, pk: str, *, deleted: bool, seen: bool) -> str:
    """Bump the row's version and log the change for ``ref`` (NEW or OLD).

    Datetimes are UTC with microseconds, as Django writes them with ``USE_TZ``. The change
    takes its version from the row just bumped, in the same transaction (the row's lock is
    held until commit, so two writers of one key append their versions in order). A row
    ``seen`` before is bumped by an ``UPDATE`` on its unique key, which locks that index record
    alone: ``INSERT ... ON DUPLICATE KEY UPDATE`` on a key that is there locks the gap before it
    too (InnoDB's next-key lock on a duplicate unique key, even in READ COMMITTED), which would
    make writers of neighbouring keys wait. The upsert stays for a first sighting: two writers
    may both find no row yet.
    """
    key = f"CAST({ref}.`{pk}` AS CHAR)"
    flag = 1 if deleted else 0
    where = f"table_name = '{table}' AND pk = {key}"
    upsert = (
        "INSERT INTO strangler_sync_row (table_name, pk, version, deleted, updated_at) "  # noqa: S608
        f"VALUES ('{table}', {key}, 1, {flag}, UTC_TIMESTAMP(6)) "
        f"ON DUPLICATE KEY UPDATE version = version + 1, deleted = {flag}, "
        "updated_at = VALUES(updated_at);"
    )
    if seen:
        upsert = (
            f"UPDATE strangler_sync_row SET version = version + 1, deleted = {flag}, "  # noqa: S608
            f"updated_at = UTC_TIMESTAMP(6) WHERE {where}; "
            f"IF ROW_COUNT() = 0 THEN {upsert} END IF;"
        )
    return (
        f"{upsert} "  # noqa: S608
        "INSERT INTO strangler_sync_change (table_name, pk, version, deleted, xid, created_at) "
        f"SELECT table_name, pk, version, {flag}, 0, updated_at FROM strangler_sync_row "
        f"WHERE {where};"
    )
