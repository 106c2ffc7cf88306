"""MySQL/MariaDB: the relay's read waits for a writer holding an earlier change open.

A change's id is taken before its writer commits, so a later id can commit first; these tests
hold a writer open on a second, real connection to prove the earlier change is never passed.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from strangler.sync import mysql_changes
from strangler.sync.changelog import Batch, batch_read
from strangler.sync.position import START, Position
from strangler.sync.schema import send_tables
from tests.strangler.sync.conftest import alpha_database_url, mysql_connect
from tests.sync_project.widgets.models import Widget

pytestmark = [pytest.mark.mysql, pytest.mark.django_db(transaction=True)]

# Fresh keys for each test: InnoDB locks the deleted (not yet purged) index records of the
# previous test's rows when a key is inserted again, which would make the writers wait here.
_KEYS = itertools.count(1000, 10)


@pytest.fixture
def base() -> int:
    return next(_KEYS)


def _insert(conn: Any, pk: int) -> None:
    with conn.cursor() as cursor:
        cursor.execute(
            "INSERT INTO widgets_widget (id, sku, name, price, updated_at) "
            "VALUES (%s, %s, 'open', 1, UTC_TIMESTAMP(6))",
            [pk, f"OPEN-{pk}"],
        )


@pytest.fixture
def early(base: int) -> Iterator[Any]:
    """A second connection whose transaction writes widget ``base`` first and stays open."""
    conn = mysql_connect(alpha_database_url())
    conn.autocommit(False)
    with conn.cursor() as cursor:
        cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
    _insert(conn, base)
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()


@pytest.fixture(autouse=True)
def _short_lock_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mysql_changes, "LOCK_WAIT_SECONDS", 1)


def _late_widget(pk: int) -> None:
    """Takes a later change id than ``early``'s and commits at once."""
    Widget.objects.create(id=pk, sku=f"LATE-{pk}", name="late", price=Decimal(1))


def _read(after: Position = START) -> Batch:
    return batch_read(after=after, tables=send_tables("beta"), limit=100)


def _read_while(end_the_writer: Callable[[], None]) -> Batch:
    """A read from the start, during which ``end_the_writer`` runs on another thread."""
    ending = threading.Timer(0.2, end_the_writer)
    ending.start()
    try:
        return _read()
    finally:
        ending.join()


def _pks(batch: Batch) -> list[str]:
    return [change.pk for change in batch.changes]


def test_a_later_change_committed_first_is_not_read_past_the_open_one(
    early: Any, base: int
) -> None:
    _late_widget(base + 1)

    held = _read()

    assert (held.read, held.end) == (0, START)
    early.commit()
    assert _pks(_read()) == [str(base), str(base + 1)]


def test_the_read_waits_for_the_open_writer_and_takes_its_change_once_committed(
    early: Any, base: int
) -> None:
    _late_widget(base + 1)

    first = _read_while(early.commit)

    # As many changes as were committed when the read began, in id order: the late one next.
    assert _pks(first) == [str(base)]
    assert _pks(_read(first.end)) == [str(base + 1)]


def test_a_change_rolled_back_while_the_read_waits_is_passed_over(early: Any, base: int) -> None:
    _late_widget(base + 1)

    batch = _read_while(early.rollback)

    assert _pks(batch) == [str(base + 1)]


def test_a_writer_open_after_the_last_committed_change_does_not_hold_the_read(
    early: Any, base: int
) -> None:
    early.rollback()  # nothing of early's below the committed change: open it above
    _late_widget(base + 1)
    _insert(early, base + 2)

    batch = _read()

    assert _pks(batch) == [str(base + 1)]
