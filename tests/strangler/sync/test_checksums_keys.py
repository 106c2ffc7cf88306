"""Range checksums of UUID-, text- and big-integer-keyed tables: the same text on every engine,
every live version counted, read through an index in key order."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal

import pytest
from django.db import connection, models, transaction

from strangler.sync.checksums import _How, _versions_query, algorithms, segment_checksums
from strangler.sync.keys import version_param
from strangler.sync.marking import applying
from strangler.sync.models import RowVersion
from strangler.sync.row_hash import row_hash
from strangler.sync.shapes import TableShape
from tests.strangler.sync.conftest import is_mysql
from tests.sync_project.widgets.models import Label, Shipment, Voucher

pytestmark = pytest.mark.django_db

US = "\x1f"
WHEN = dt.datetime(2024, 5, 17, tzinfo=dt.UTC)
VOUCHER = uuid.UUID("0f0e0d0c-0b0a-4908-8706-050403020100")
BIGGEST = 2**63 - 1


def _shape(model: type[models.Model], **columns: str) -> TableShape:
    return TableShape.for_model(model, sync_name=model._meta.db_table, wire_to_attname=columns)


def _version(model: type[models.Model], wire: str, version: int) -> None:
    shape = _shape(model)
    RowVersion.objects.create(
        table_name=shape.sync_name,
        row_pk=str(version_param(shape, wire, connection)),
        version=version,
        deleted=False,
        updated_at=WHEN,
    )


def _seed(*rows: models.Model) -> None:
    with transaction.atomic(), applying():
        for row in rows:
            row.save(force_insert=True)


def test_a_uuid_key_is_hashed_as_its_32_hex_digits_with_its_version() -> None:
    _seed(Voucher(id=VOUCHER, name="ten off", amount=Decimal("10")))
    _version(Voucher, str(VOUCHER), 3)

    [segment] = segment_checksums(_shape(Voucher), boundaries=[None, None], level="keys")

    assert segment.keys == row_hash(VOUCHER.hex) + row_hash(f"{VOUCHER.hex}{US}3")


def test_a_uuid_keyed_row_text_is_the_same_on_every_engine() -> None:
    _seed(Voucher(id=VOUCHER, name="ten off", amount=Decimal("10")))
    shape = _shape(Voucher, id="id", amount="amount", name="name")

    [segment] = segment_checksums(shape, boundaries=[None, None], level="rows")

    assert segment.rows == row_hash(US.join([VOUCHER.hex, "10.00", "ten off"]))


def test_the_version_of_a_19_digit_key_is_counted() -> None:
    _seed(
        Shipment(id=BIGGEST, name="last", amount=Decimal("1")),
        Shipment(id=-(2**63), name="first", amount=Decimal("1")),
    )
    _version(Shipment, str(BIGGEST), 4)

    [low, high] = segment_checksums(_shape(Shipment), boundaries=[None, "0", None], level="keys")

    assert low.keys == row_hash(str(-(2**63)))
    assert high.keys == row_hash(str(BIGGEST)) + row_hash(f"{BIGGEST}{US}4")


def test_text_versions_fall_in_the_segments_of_their_keys() -> None:
    _seed(Label(code="a", name="A"), Label(code="b", name="B"))
    _version(Label, "a", 5)
    _version(Label, "b", 2)

    first, second = segment_checksums(_shape(Label), boundaries=["a", "b", "c"], level="keys")

    assert first.keys == row_hash("a") + row_hash(f"a{US}5")
    assert second.keys == row_hash("b") + row_hash(f"b{US}2")


@pytest.mark.skipif(is_mysql(), reason="MySQL/MariaDB keep no version index (version_index)")
@pytest.mark.parametrize("model", [Voucher, Label, Shipment])
def test_versions_of_every_key_kind_are_searched_by_key_in_an_index(
    model: type[models.Model],
) -> None:
    postgresql = connection.vendor == "postgresql"
    # The range test is one of the index's search conditions, not a filter on what it read.
    searched = (
        re.compile(r"Index Cond: .*table_name.*>= ", re.S)
        if postgresql
        else re.compile(r"USING INDEX \w+ \(table_name=\? AND .*>\?")
    )
    wire = {Voucher: [str(VOUCHER), str(uuid.UUID(int=2**127))], Label: ["a", "m"]}
    plans = []
    for algorithm in algorithms():
        boundaries = wire.get(model, ["1", "100"])
        how = _How(_shape(model), boundaries, "keys", algorithm, "native", connection)
        sql, params = _versions_query(how)
        with connection.cursor() as cursor:
            if postgresql:
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute("EXPLAIN " + sql, params)
            else:
                cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plans.append("\n".join(str(row) for row in cursor.fetchall()))

    assert all(searched.search(plan) for plan in plans), plans
