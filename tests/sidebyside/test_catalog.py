"""The catalog service answers the catalog's requests as the monolith does: every request of
the contract's corpus, as each kind of caller, compared field by field."""

from __future__ import annotations

import pytest

from tests.extracted.catalog.contract import (
    Request,
    read_corpus,
    refused_write_corpus,
    staff_invalid_write_corpus,
)
from tests.sidebyside.harness import SideBySide

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("request_", read_corpus(), ids=str)
def test_a_read_gets_the_same_answer_from_both(side_by_side: SideBySide, request_: Request):
    side_by_side.assert_same(request_.method, request_.path, caller=request_.caller)


@pytest.mark.parametrize("request_", refused_write_corpus(), ids=str)
def test_a_write_by_someone_not_staff_is_refused_alike(side_by_side: SideBySide, request_: Request):
    side_by_side.assert_same(
        request_.method, request_.path, caller=request_.caller, body=request_.body
    )


@pytest.mark.parametrize("request_", staff_invalid_write_corpus(), ids=str)
def test_an_invalid_staff_write_is_refused_alike(side_by_side: SideBySide, request_: Request):
    side_by_side.assert_same(
        request_.method, request_.path, caller=request_.caller, body=request_.body
    )


def test_the_corpus_meets_every_status_of_the_contract(side_by_side: SideBySide):
    # Guards the comparisons above from passing on a corpus that only ever misses.
    corpus = read_corpus() + refused_write_corpus() + staff_invalid_write_corpus()
    for request in corpus:
        side_by_side.compare(
            request.method, request.path, caller=request.caller, body=request.body,
            route="status-check",
        )  # fmt: skip

    report = side_by_side.engine.report("status-check")
    assert report is not None
    assert {base for base, _, _ in report.statuses} == {
        "200", "301", "400", "401", "403", "404", "409"
    }  # fmt: skip
