"""Boundary keys by rank: equal parts whatever the keys' kind and spread, in the agreed order."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection, models, transaction

from strangler.sync.checksums import segment_checksums
from strangler.sync.key_splits import SplitRequest, key_splits
from strangler.sync.marking import applying
from strangler.sync.shapes import TableShape
from tests.strangler.sync.conftest import is_mysql
from tests.sync_project.widgets.models import Label, Shipment

pytestmark = pytest.mark.django_db

EXTREMES = [-(2**63), -(10**18) - 7, -1, 0, 10**18, 2**63 - 2, 2**63 - 1]


def _shape(model: type[models.Model]) -> TableShape:
    return TableShape.for_model(model, sync_name=model._meta.db_table, wire_to_attname={})


def _shipments(keys: list[int]) -> None:
    with transaction.atomic(), applying():
        Shipment.objects.bulk_create(
            Shipment(id=key, name=f"s{key}", amount=Decimal("1")) for key in keys
        )


def _labels(codes: list[str]) -> None:
    with transaction.atomic(), applying():
        Label.objects.bulk_create(Label(code=code, name=code) for code in codes)


def test_every_step_th_key_starts_a_part_over_the_whole_bigint_span() -> None:
    _shipments(EXTREMES)

    keys = key_splits(_shape(Shipment), SplitRequest(None, None, step=2), order="native")

    assert keys == ["-1", str(10**18), str(2**63 - 1)]  # ranks 3, 5 and 7


def test_splits_stay_inside_the_range_and_stop_at_the_limit() -> None:
    _shipments(EXTREMES)
    request = SplitRequest(low="-1", high=str(2**63 - 1), step=1, limit=2)

    keys = key_splits(_shape(Shipment), request, order="native")

    assert keys == ["0", str(10**18)]  # after the range's first key, at most two


def test_segments_at_the_ends_of_the_bigint_span_count_every_row() -> None:
    _shipments(EXTREMES)

    segments = segment_checksums(
        _shape(Shipment), boundaries=[None, "0", str(2**63 - 1), None], level="rows"
    )

    assert [s.count for s in segments] == [3, 3, 1]


@pytest.mark.skipif(is_mysql(), reason="the test table's key folds case on MySQL (b = B)")
def test_binary_order_splits_text_keys_by_code_point() -> None:
    _labels(["b", "B", "a", "C", "é"])

    keys = key_splits(_shape(Label), SplitRequest(None, None, step=1), order="binary")

    assert keys == ["C", "a", "b", "é"]  # "B" first: capitals before small letters


@pytest.mark.postgres
def test_native_order_follows_the_key_columns_collation_and_binary_overrides_it() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            'ALTER TABLE widgets_label ALTER COLUMN code TYPE varchar(64) COLLATE "und-x-icu"'
        )
    _labels(["b", "B", "a", "C"])
    everything = SplitRequest(None, None, step=1)

    native = key_splits(_shape(Label), everything, order="native")
    binary = key_splits(_shape(Label), everything, order="binary")
    [whole] = segment_checksums(_shape(Label), boundaries=["B", "a"], level="keys", order="binary")

    assert native == ["b", "B", "C"]  # ICU: "a" first, small before capital letters
    assert binary == ["C", "a", "b"]
    assert whole.count == 2  # "B" and "C" lie in ["B", "a") by code point
