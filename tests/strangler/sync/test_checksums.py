"""Range checksums: the same number on every engine, from the row text the docstring defines."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test import Client

from strangler.sync.checksums import (
    _How,
    _versions_query,
    algorithms,
    key_bounds,
    segment_checksums,
)
from strangler.sync.marking import applying
from strangler.sync.models import RowVersion
from strangler.sync.row_hash import row_hash
from tests.strangler.sync.conftest import is_mysql
from tests.strangler.sync.factories import WIDGET_COLUMNS, signed_post
from tests.strangler.sync.ops_fixtures import (
    WHEN,
    applied_widget,
    run_tables,
    version_set,
    widget_shape,
)
from tests.sync_project.widgets.models import Widget

pytestmark = pytest.mark.django_db

# Imported for pytest to find them here: ops_fixtures says why they are not in conftest.
FIXTURES = (run_tables,)

US = "\x1f"


def test_the_keys_checksum_sums_the_hash_of_each_key_and_of_each_written_version() -> None:
    applied_widget(1)
    applied_widget(2)
    version_set(1, 0)  # as a backfilled row: version 0 counts as never written
    version_set(2, 7)

    [segment] = segment_checksums(widget_shape(), boundaries=["1", "3"], level="keys")

    assert segment.count == 2
    assert segment.keys == row_hash("1") + row_hash("2") + row_hash(f"2{US}7")
    assert segment.rows is None


def test_a_version_row_of_version_0_counts_the_same_as_none() -> None:
    applied_widget(1)
    without = segment_checksums(widget_shape(), boundaries=["1", "2"], level="rows")
    version_set(1, 0)

    with_zero = segment_checksums(widget_shape(), boundaries=["1", "2"], level="rows")

    assert with_zero == without


def test_a_live_version_without_its_row_still_counts() -> None:
    version_set(5, 2)  # deleted behind capture's back: the version row says it is there

    [segment] = segment_checksums(widget_shape(), boundaries=["1", "10"], level="keys")

    assert (segment.count, segment.keys) == (0, row_hash(f"5{US}2"))


def test_versions_outside_the_range_and_of_other_tables_are_not_counted() -> None:
    applied_widget(3)
    version_set(3, 4)
    version_set(30, 4)
    RowVersion.objects.create(
        table_name="widgets_gadget", row_pk="3", version=9, deleted=False, updated_at=WHEN
    )
    RowVersion.objects.create(
        table_name="widgets_other", row_pk="a1b2", version=9, deleted=False, updated_at=WHEN
    )

    [segment] = segment_checksums(widget_shape(), boundaries=["1", "10"], level="keys")

    assert segment.keys == row_hash("3") + row_hash(f"3{US}4")


def test_the_rows_checksum_renders_columns_as_they_travel_in_wire_name_order() -> None:
    applied_widget(1, name="gear", price="9.5")

    [segment] = segment_checksums(widget_shape(), boundaries=["1", "2"], level="rows")

    # name, price (at the field's places), sku, updated_at (UTC, microseconds): sorted by name.
    text = US.join(["1", "gear", "9.50", "W-1", "2024-05-17T09:30:15.123456"])
    assert segment.rows == row_hash(text)


def test_a_time_without_microseconds_is_rendered_with_six_zeros() -> None:
    applied_widget(1, when=WHEN.replace(microsecond=0))

    [segment] = segment_checksums(widget_shape(), boundaries=["1", "2"], level="rows")

    text = US.join(["1", "gear", "9.99", "W-1", "2024-05-17T09:30:15.000000"])
    assert segment.rows == row_hash(text)


def test_segments_cover_the_range_and_empty_ones_count_zero() -> None:
    for pk in (1, 2, 9):
        applied_widget(pk)

    segments = segment_checksums(
        widget_shape(), boundaries=["1", "3", "5", "7", "9", "11"], level="keys"
    )

    assert [(s.low, s.high, s.count) for s in segments] == [
        ("1", "3", 2), ("3", "5", 0), ("5", "7", 0), ("7", "9", 0), ("9", "11", 1)
    ]  # fmt: skip
    assert segments[1].keys == 0


def test_a_changed_column_changes_the_rows_checksum_but_not_the_keys_checksum() -> None:
    applied_widget(1)
    before = segment_checksums(widget_shape(), boundaries=["1", "2"], level="rows")[0]
    with transaction.atomic(), applying():
        Widget.objects.filter(pk=1).update(name="changed")

    after = segment_checksums(widget_shape(), boundaries=["1", "2"], level="rows")[0]

    assert after.keys == before.keys
    assert after.rows != before.rows


def test_a_tombstone_is_not_a_row_of_the_table() -> None:
    applied_widget(1)
    version_set(2, 3, deleted=True)

    [segment] = segment_checksums(widget_shape(), boundaries=["1", "3"], level="keys")

    assert segment.count == 1
    assert segment.keys == row_hash("1")


def test_key_bounds_of_an_empty_table_are_none() -> None:
    bounds = key_bounds(widget_shape())

    assert (bounds.count, bounds.order) == (0, "int")


@pytest.mark.postgres
def test_postgresql_computes_the_same_hash_as_python() -> None:
    text = f"42{US}7{US}héllo"
    with connection.cursor() as cursor:
        cursor.execute("SELECT ('x' || right(md5(%s), 15))::bit(60)::bigint", [text])
        (value,) = cursor.fetchone()

    assert value == row_hash(text)


@pytest.mark.urls("tests.strangler.sync.ops_urls")
def test_the_checksum_endpoint_answers_bounds_alone_then_segments(client: Client, settings) -> None:
    applied_widget(3)
    applied_widget(4)
    secret = settings.STRANGLER_SYNC["secret"]
    ask = {
        "source": "beta",
        "table": "widgets_widget",
        "columns": list(WIDGET_COLUMNS),
        "level": "keys",
    }

    bounds = signed_post(client, "/internal/sync/checksum", {**ask, "ranges": []}, secret=secret)
    segments = signed_post(
        client, "/internal/sync/checksum", {**ask, "ranges": [["3", "4", "5"]]}, secret=secret
    )

    offered = ["pg", "md5"] if connection.vendor == "postgresql" else ["md5"]
    assert bounds.json() == {
        "bounds": {"count": 2, "algorithms": offered, "order": "int"}, "ranges": []
    }  # fmt: skip
    assert segments.json()["ranges"] == [
        [["3", "4", 1, row_hash("3"), None], ["4", "5", 1, row_hash("4"), None]]
    ]


@pytest.mark.urls("tests.strangler.sync.ops_urls")
def test_the_checksum_endpoint_refuses_a_hash_this_database_lacks(client: Client, settings) -> None:
    ask = {"source": "beta", "table": "widgets_widget", "columns": list(WIDGET_COLUMNS),
           "level": "keys", "ranges": [["1", "2"]], "algorithm": "sha1"}  # fmt: skip

    response = signed_post(
        client, "/internal/sync/checksum", ask, secret=settings.STRANGLER_SYNC["secret"]
    )

    assert response.status_code == 400
    assert response.json()["code"] == "unsupported_algorithm"


@pytest.mark.urls("tests.strangler.sync.ops_urls")
def test_the_rows_endpoint_refuses_a_table_the_node_does_not_accept(
    client: Client, settings
) -> None:
    ask = {"source": "beta", "table": "widgets_gadget", "columns": ["id"], "range": ["1", "2"]}

    response = signed_post(
        client, "/internal/sync/rows", ask, secret=settings.STRANGLER_SYNC["secret"]
    )

    assert response.status_code == 409
    assert response.json()["code"] == "schema_drift"
    assert "widgets_gadget: no inbound registration from 'beta'" in response.json()["message"]


@pytest.mark.postgres
def test_postgresqls_own_hashes_sum_keys_versions_and_row_texts() -> None:
    applied_widget(1)
    version_set(1, 5)
    text = US.join(["1", "gear", "9.99", "W-1", "2024-05-17T09:30:15.123456"])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT hashint8extended(1, 0), hashint8extended(1, 5), hashtextextended(%s, 0)",
            [text],
        )
        key, version, row = cursor.fetchone()

    [segment] = segment_checksums(
        widget_shape(), boundaries=["1", "2"], level="rows", algorithm="pg"
    )

    assert (segment.keys, segment.rows) == (key + version, row + version)


@pytest.mark.skipif(is_mysql(), reason="MySQL/MariaDB keep no version index (version_index)")
def test_the_versions_are_read_through_the_integer_key_index_with_every_hash() -> None:
    plans = {}
    for algorithm in algorithms():  # md5 on every engine, PostgreSQL's own there too
        how = _How(widget_shape(), ["1", "10", "100"], "keys", algorithm, "native", connection)
        sql, params = _versions_query(how)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute("EXPLAIN " + sql, params)
            else:
                cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plans[algorithm] = "\n".join(str(row) for row in cursor.fetchall())

    assert all("strangler_sync_row_int_key" in plan for plan in plans.values()), plans


@pytest.mark.postgres
def test_bounds_of_a_table_emptied_since_its_statistics_count_no_rows() -> None:
    for pk in range(1, 51):
        applied_widget(pk)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE widgets_widget")
    with transaction.atomic(), applying():
        Widget.objects.all().delete()

    bounds = key_bounds(widget_shape())

    assert (bounds.count, bounds.order) == (0, "int")
