"""The side-by-side harness itself, against two small servers with a known difference: a
failure names each differing field with both values and how to reproduce it."""

from __future__ import annotations

import pytest

from tests.sidebyside.harness import SideBySide, Sides
from tests.strangler.compare.servers import Answer, product, serving


def _sides(base, candidate) -> SideBySide:
    return SideBySide(
        Sides(base.url, candidate.url, "monolith", "catalog"),
        credentials=lambda caller: ((("Authorization", "Token t0ps3cret"),),) * 2,
    )


def test_a_difference_fails_with_the_field_both_values_and_a_curl_line():
    with (
        serving(product) as base,
        serving(lambda r: product(r, price="10.00")) as candidate,
        pytest.raises(AssertionError) as failed,
    ):
        _sides(base, candidate).assert_same("GET", "/api/v1/products/3/", caller="alice")

    message = str(failed.value)
    lines = message.splitlines()
    assert lines[0] == (
        "GET /api/v1/products/3/ as alice: catalog answers differently from monolith "
        "(1 real, 0 noise)"
    )
    assert lines[2].split() == ["price", "value", '"9.99"', '"10.00"']
    assert lines[3] == (
        f"  reproduce: curl {base.url}/api/v1/products/3/ -H 'Authorization: [redacted]'"
    )
    assert "t0ps3cret" not in message


def test_a_value_the_base_changes_by_itself_does_not_fail():
    calls = iter(range(1000))
    with (
        serving(lambda r: product(r, served_at=next(calls))) as base,
        serving(lambda r: product(r, served_at=-1)) as candidate,
    ):
        result = _sides(base, candidate).assert_same("GET", "/api/v1/products/3/")

    assert [n.difference.key for n in result.noise] == ["served_at"]


def test_a_candidate_that_fails_is_reported_with_its_status():
    with (
        serving(product) as base,
        serving(lambda r: Answer(502, {"error": "down"})) as candidate,
        pytest.raises(AssertionError, match="the candidate answered 502 where the base"),
    ):
        _sides(base, candidate).assert_same("GET", "/api/v1/products/3/")
