"""``CaptureTable``: the migration operation that starts (or, backwards, stops) capturing a table.

A project puts it in one of its own migrations, after ``("strangler_sync", "0001_initial")``::

    operations = [CaptureTable(table="catalog_product", pk="id")]

It changes no model state, only the database: triggers on SQLite, the shared trigger function's
row and ``TRUNCATE`` triggers on PostgreSQL (``strangler.sync.triggers``). Statements go through
the schema editor, so ``sqlmigrate`` prints them instead of running them.

SQLite rebuilds a table to alter most columns and the rebuild drops its triggers; the app's
``post_migrate`` handler puts them back on every outbound table (``apps``), and ``sync_check``
and the relay refuse to run a stream whose table has none.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

from strangler.sync.engines import require_capturable
from strangler.sync.triggers import (
    capture_drop_statements,
    capture_install_statements,
    functions_drop_statements,
    functions_install_statements,
    validate_identifier,
)
from strangler.sync.version_index import version_index_drop_statements, version_index_statements

__all__ = ["CaptureFunctions", "CaptureTable", "VersionKeyIndex"]


class _DatabaseOnly(Operation):
    """An operation with SQL for the database and nothing for Django's model state."""

    reversible = True
    reduces_to_sql = True

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Triggers and functions are not part of Django's model state."""

    def _forwards(self, vendor: str) -> list[str]:
        raise NotImplementedError

    def _backwards(self, vendor: str) -> list[str]:
        raise NotImplementedError

    def _check(self, schema_editor: BaseDatabaseSchemaEditor) -> None:
        """Refuse, before any statement, a database the operation's SQL cannot serve."""

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        self._check(schema_editor)
        for statement in self._forwards(schema_editor.connection.vendor):
            schema_editor.execute(statement, params=None)

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        for statement in self._backwards(schema_editor.connection.vendor):
            schema_editor.execute(statement, params=None)


class CaptureTable(_DatabaseOnly):
    """Install the capture triggers on ``table`` whose primary-key column is ``pk``."""

    def __init__(self, table: str, pk: str = "id") -> None:
        self.table = validate_identifier(table, what="table")
        self.pk = validate_identifier(pk, what="pk")

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (self.__class__.__name__, [], {"table": self.table, "pk": self.pk})

    def _check(self, schema_editor: BaseDatabaseSchemaEditor) -> None:
        require_capturable(schema_editor.connection, table=self.table, pk=self.pk)

    def _forwards(self, vendor: str) -> list[str]:
        return capture_install_statements(vendor, table=self.table, pk=self.pk)

    def _backwards(self, vendor: str) -> list[str]:
        return capture_drop_statements(vendor, table=self.table)

    def describe(self) -> str:
        return f"Capture writes to {self.table} for strangler.sync"

    @property
    def migration_name_fragment(self) -> str:
        return f"capture_{self.table}"


class CaptureFunctions(_DatabaseOnly):
    """The trigger functions every captured table shares on PostgreSQL (nothing on SQLite)."""

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (self.__class__.__name__, [], {})

    def _check(self, schema_editor: BaseDatabaseSchemaEditor) -> None:
        require_capturable(schema_editor.connection)

    def _forwards(self, vendor: str) -> list[str]:
        return functions_install_statements(vendor)

    def _backwards(self, vendor: str) -> list[str]:
        return functions_drop_statements(vendor)

    def describe(self) -> str:
        return "Create strangler.sync's capture functions (PostgreSQL)"

    @property
    def migration_name_fragment(self) -> str:
        return "capture_functions"


class VersionKeyIndex(_DatabaseOnly):
    """The indexes reconcile's version sums read through (``version_index``).

    Migration 0003 creates them; ``rebuild=True`` (migration 0006) drops and creates them again
    as they are defined now, and going backwards leaves them so.
    """

    def __init__(self, rebuild: bool = False) -> None:
        self.rebuild = rebuild

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (self.__class__.__name__, [], {"rebuild": True} if self.rebuild else {})

    def _forwards(self, vendor: str) -> list[str]:
        drop = version_index_drop_statements(vendor) if self.rebuild else []
        return [*drop, *version_index_statements(vendor)]

    def _backwards(self, vendor: str) -> list[str]:
        return [] if self.rebuild else version_index_drop_statements(vendor)

    def describe(self) -> str:
        return "Index strangler_sync_row's live versions by table and key order"

    @property
    def migration_name_fragment(self) -> str:
        return "version_key_index"
