"""The database servers the sync runs on: version floors and MySQL's key length, named."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import NotSupportedError, connection
from django.db.migrations.state import ProjectState

from strangler.sync.engines import (
    database_problem,
    key_type_problem,
    require_capturable,
    version_problem,
)
from strangler.sync.operations import CaptureTable
from strangler.sync.triggers import capture_installed


@pytest.mark.parametrize(
    ("server", "version"),
    [("PostgreSQL", (14, 0)), ("PostgreSQL", (17, 2)), ("MariaDB", (10, 5, 0)),
     ("MariaDB", (11, 4, 2)), ("MySQL", (8, 0, 11)), ("MySQL", (8, 4, 0))],
)  # fmt: skip
def test_a_server_at_or_above_its_floor_has_no_problem(
    server: str, version: tuple[int, ...]
) -> None:
    assert version_problem(server, version) is None


def test_an_older_server_is_named_with_the_version_found_and_the_one_needed() -> None:
    assert version_problem("PostgreSQL", (13, 9)) == (
        "strangler.sync needs PostgreSQL 14 or newer; this database is PostgreSQL 13.9"
    )
    assert version_problem("MariaDB", (10, 4, 31)) == (
        "strangler.sync needs MariaDB 10.5 or newer; this database is MariaDB 10.4.31"
    )
    assert version_problem("MySQL", (8, 0, 10)) == (
        "strangler.sync needs MySQL 8.0.11 or newer; this database is MySQL 8.0.10"
    )


@pytest.mark.parametrize(
    ("data_type", "max_chars"),
    [("bigint", None), ("int", None), ("char", 32), ("varchar", 255), ("datetime", None)],
)
def test_keys_that_fit_255_characters_can_be_synced_on_mysql(
    data_type: str, max_chars: int | None
) -> None:
    assert key_type_problem("shop_item", "id", data_type, max_chars) is None


def test_a_longer_text_key_is_refused_on_mysql_naming_its_type() -> None:
    assert key_type_problem("shop_item", "code", "varchar", 300) == (
        "shop_item: its primary key code is varchar(300); strangler.sync keeps keys of up to "
        "255 characters on MySQL/MariaDB"
    )
    assert key_type_problem("shop_item", "code", "LONGTEXT", 4294967295) == (
        "shop_item: its primary key code is longtext; strangler.sync keeps keys of up to "
        "255 characters on MySQL/MariaDB"
    )


@pytest.mark.django_db
def test_the_test_database_is_one_the_sync_supports() -> None:
    assert database_problem(connection) is None
    require_capturable(connection, table="widgets_widget", pk="id")


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)
def test_capture_of_a_table_keyed_by_long_text_is_refused_on_mysql() -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE long_keyed (code varchar(300) PRIMARY KEY, n int)")
    try:
        operation = CaptureTable(table="long_keyed", pk="code")
        state = ProjectState()
        with (
            pytest.raises(NotSupportedError, match=r"long_keyed: its primary key code is varchar"),
            connection.schema_editor() as editor,
        ):
            operation.database_forwards("widgets", editor, state, state)
        assert not capture_installed(connection, table="long_keyed")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE long_keyed")


@pytest.mark.server_database
@pytest.mark.django_db
def test_sync_check_names_a_server_older_than_the_sync_supports(monkeypatch: Any) -> None:
    if connection.vendor == "postgresql":
        monkeypatch.setattr(connection, "pg_version", 130009)
        expected = "PostgreSQL 14 or newer; this database is PostgreSQL 13.9"
    else:
        monkeypatch.setattr(connection, "mysql_version", (10, 4, 31))
        monkeypatch.setattr(connection, "mysql_is_mariadb", True)
        expected = "MariaDB 10.5 or newer; this database is MariaDB 10.4.31"
    err = StringIO()

    with pytest.raises(CommandError, match="problem"):
        call_command("sync_check", stdout=StringIO(), stderr=err)

    assert f"!!  database: strangler.sync needs {expected}" in err.getvalue()
