"""Freshness read from the two answers' X-Strangler-Data-Versions headers."""

from __future__ import annotations

import pytest

from strangler.compare import DataVersions, Verdict, versions_from_headers
from strangler.compare.freshness import parse_versions

from .factories import ROUTE, engine, json_response, request

HEADER = "X-Strangler-Data-Versions"


def versions(value: str) -> tuple[tuple[str, str], ...]:
    return ((HEADER, value),)


def test_equal_versions_on_every_row_are_comparable():
    both = versions("catalog_product:7=3,inventory_stocklevel:7=2")

    result = versions_from_headers(both, both)

    assert result == DataVersions(5, 5, "2 synced row(s)")
    assert result.comparable


def test_the_header_name_is_read_in_any_case_from_pairs_or_a_mapping():
    base = {"x-strangler-data-versions": "catalog_product:7=3"}
    candidate = (("X-STRANGLER-DATA-VERSIONS", "catalog_product:7=3"),)

    result = versions_from_headers(base, candidate)

    assert result is not None
    assert result.comparable


def test_a_candidate_at_a_lower_version_is_behind():
    base = versions("catalog_product:7=4,catalog_product:8=1")
    candidate = versions("catalog_product:7=3,catalog_product:8=1")

    result = versions_from_headers(base, candidate)

    assert result == DataVersions(base=4, candidate=3, entity="catalog_product:7")
    assert not result.comparable
    assert result.describe() == (
        "the candidate is 1 version(s) behind the base for catalog_product:7: retry later"
    )


def test_a_row_the_candidate_lacks_counts_as_behind_even_at_version_zero():
    base = versions("catalog_product:7=0,inventory_stocklevel:3=0")
    candidate = versions("catalog_product:7=0")

    result = versions_from_headers(base, candidate)

    assert result is not None
    assert not result.comparable
    assert result.candidate < result.base
    assert result.entity == "inventory_stocklevel:3"


def test_the_entity_names_the_first_differing_row_and_how_many_more():
    base = versions("catalog_product:1=2,catalog_product:2=2,catalog_product:3=2")
    candidate = versions("catalog_product:1=1,catalog_product:2=2,catalog_product:3=1")

    result = versions_from_headers(base, candidate)

    assert result is not None
    assert result.entity == "catalog_product:1 and 1 more"
    assert (result.base, result.candidate) == (4, 2)


def test_a_candidate_ahead_means_the_base_served_older_data():
    base = versions("catalog_product:7=2")
    candidate = versions("catalog_product:7=5")

    result = versions_from_headers(base, candidate)

    assert result is not None
    assert not result.comparable
    assert result.describe().startswith("the base is 3 version(s) behind the candidate")


def test_behind_on_one_row_and_ahead_on_another_is_reported_as_behind():
    # Sums over both rows would be equal (3 + 1 == 1 + 3) and wrongly look comparable.
    base = versions("catalog_product:1=3,catalog_product:2=1")
    candidate = versions("catalog_product:1=1,catalog_product:2=3")

    result = versions_from_headers(base, candidate)

    assert result is not None
    assert not result.comparable
    assert result.candidate < result.base


def test_rows_only_the_candidate_served_do_not_count():
    base = versions("catalog_product:7=2")
    candidate = versions("catalog_product:7=2,inventory_stocklevel:7=9")

    result = versions_from_headers(base, candidate)

    assert result is not None
    assert result.comparable


@pytest.mark.parametrize(
    ("base", "candidate"),
    [
        ((), versions("catalog_product:7=2")),
        (versions("catalog_product:7=2"), ()),
        (versions("*"), versions("catalog_product:7=2")),
        (versions("catalog_product:7=2"), versions("*")),
        (versions("catalog_product:7=x"), versions("catalog_product:7=2")),
    ],
    ids=["base-silent", "candidate-silent", "base-too-many", "candidate-too-many", "malformed"],
)
def test_without_a_usable_header_on_both_sides_there_is_no_verdict(base, candidate):
    assert versions_from_headers(base, candidate) is None


def test_an_empty_header_means_no_synced_rows_were_served():
    assert parse_versions("") == {}
    result = versions_from_headers(versions(""), versions(""))
    assert result is not None
    assert result.comparable


def test_a_pk_with_encoded_separators_parses_as_one_key():
    assert parse_versions("shop_item:a%3Db%2Cc=4") == {"shop_item:a%3Db%2Cc": 4}


def test_the_engine_calls_a_stale_candidate_with_a_different_body_not_comparable():
    base = json_response({"price": "12.00"}, headers=versions("catalog_product:7=2"))
    candidate = json_response({"price": "10.00"}, headers=versions("catalog_product:7=1"))

    result = engine().compare(
        ROUTE,
        request("/api/v1/products/7/"),
        base,
        candidate,
        freshness=versions_from_headers(base.headers, candidate.headers),
    )

    assert result.verdict is Verdict.NOT_COMPARABLE
    assert "candidate is 1 version(s) behind the base for catalog_product:7" in result.reason


def test_the_engine_calls_equal_versions_with_a_different_body_different():
    base = json_response({"price": "12.00"}, headers=versions("catalog_product:7=2"))
    candidate = json_response({"price": "10.00"}, headers=versions("catalog_product:7=2"))

    result = engine().compare(
        ROUTE,
        request("/api/v1/products/7/"),
        base,
        candidate,
        freshness=versions_from_headers(base.headers, candidate.headers),
    )

    assert result.verdict is Verdict.DIFFERENT
