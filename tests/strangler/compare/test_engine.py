"""The engine's verdicts, freshness, broken candidates, clusters and bounded aggregates."""

from __future__ import annotations

from itertools import count

import pytest

from strangler.compare import (
    CandidateFailure,
    DataVersions,
    DiffKind,
    HttpResponse,
    StoreLimits,
    Verdict,
)

from .factories import HTML, ROUTE, engine, json_response, request


def test_equal_answers_are_equal():
    compare = engine()
    result = compare.compare(ROUTE, request(), json_response({"a": 1}), json_response({"a": 1}))
    assert result.verdict is Verdict.EQUAL


def test_a_difference_on_a_field_never_seen_varying_is_real():
    result = engine().compare(ROUTE, request(), json_response({"a": 1}), json_response({"a": 2}))
    assert result.verdict is Verdict.DIFFERENT
    assert result.signature == (("a", "value"),)


def test_stale_candidate_data_is_not_comparable_and_not_counted():
    # Given a candidate whose copy of the product is one version behind the base's
    compare = engine()
    stale = DataVersions(base=8, candidate=7, entity="product 42")
    # When the answers differ
    result = compare.compare(
        ROUTE,
        request(),
        json_response({"price": "2"}),
        json_response({"price": "1"}),
        freshness=stale,
    )
    # Then it is "retry later", not a difference, and no field counts it
    assert result.verdict is Verdict.NOT_COMPARABLE
    assert "candidate is 1 version(s) behind the base for product 42" in result.reason
    report = compare.report(ROUTE)
    assert report is not None
    assert report.fields == ()
    assert report.clusters == ()
    assert report.comparisons == 0


@pytest.mark.parametrize(
    ("versions", "reason"),
    [
        (DataVersions(base=8, candidate=5), "the candidate is 3 version(s) behind the base"),
        (DataVersions(base=5, candidate=6), "the base is 1 version(s) behind the candidate"),
    ],
)
def test_either_side_lagging_makes_a_difference_not_comparable(versions, reason):
    result = engine().compare(
        ROUTE, request(), json_response({"a": 1}), json_response({"a": 2}), freshness=versions
    )
    assert result.verdict is Verdict.NOT_COMPARABLE
    assert result.reason.startswith(reason)
    assert result.reason.endswith("retry later")


def test_freshness_is_asked_only_when_the_answers_differ():
    calls = []

    def check():
        calls.append(1)
        return DataVersions(base=3, candidate=3)

    compare = engine()
    compare.compare(
        ROUTE, request(), json_response({"a": 1}), json_response({"a": 1}), freshness=check
    )
    assert calls == []
    result = compare.compare(
        ROUTE, request(), json_response({"a": 1}), json_response({"a": 2}), freshness=check
    )
    assert calls == [1]
    assert result.verdict is Verdict.DIFFERENT


def test_a_candidate_that_cannot_be_reached_is_a_candidate_error():
    result = engine().compare(
        ROUTE, request(), json_response({}), CandidateFailure("timeout", "after 10 s")
    )
    assert result.verdict is Verdict.CANDIDATE_ERROR
    assert result.reason == "the candidate failed: timeout (after 10 s)"


def test_a_candidate_5xx_where_the_base_answered_is_a_candidate_error():
    compare = engine()
    broken = HttpResponse(502, HTML, b"<h1>Bad gateway</h1>")
    result = compare.compare(ROUTE, request("/api/v1/products/7/"), json_response({}), broken)
    assert result.verdict is Verdict.CANDIDATE_ERROR
    report = compare.report(ROUTE)
    assert report is not None
    (cluster,) = report.clusters
    assert cluster.signature == (("@candidate_error", "status 502"),)
    assert cluster.examples[0].curl.endswith("/api/v1/products/7/")
    assert report.different == 0


def test_a_failing_base_leaves_nothing_to_compare():
    result = engine().compare(ROUTE, request(), HttpResponse(503, HTML, b"down"), json_response({}))
    assert result.verdict is Verdict.NOT_COMPARABLE


def _volatile(value, extra=None):
    return json_response({"served_at": value, **(extra or {})})


def test_a_field_that_differs_between_two_base_calls_becomes_noise():
    compare = engine()
    for i in range(20):
        compare.compare(
            ROUTE, request(), _volatile(i), _volatile(-i - 1), base_again=_volatile(i + 1000)
        )
    result = compare.compare(ROUTE, request(), _volatile(1), _volatile(2))
    assert result.verdict is Verdict.NOISE_ONLY
    assert result.noise[0].reason.startswith("noise:")
    report = compare.report(ROUTE)
    assert report is not None
    assert [(f.key, f.real) for f in report.discarded] == [("served_at", False)]
    assert report.noise_only == 21
    assert report.different == 0


def test_a_critical_field_is_real_even_when_the_base_varies_on_it():
    compare = engine({"critical": ["stock"]})
    for i in range(20):
        result = compare.compare(
            ROUTE,
            request(),
            json_response({"stock": i}),
            json_response({"stock": i + 1}),
            base_again=json_response({"stock": i + 2}),
        )
        assert result.verdict is Verdict.DIFFERENT


def test_a_difference_the_repeat_base_call_also_shows_is_noise_for_that_request():
    result = engine().compare(ROUTE, request(), _volatile(1), _volatile(2), base_again=_volatile(3))
    assert result.verdict is Verdict.NOISE_ONLY
    assert "this very request" in result.noise[0].reason


def test_a_missing_volatile_field_is_real_though_its_value_is_noise():
    compare = engine()
    for i in range(20):
        compare.compare(
            ROUTE, request(), _volatile(i), _volatile(-i - 1), base_again=_volatile(i + 1000)
        )
    result = compare.compare(ROUTE, request(), _volatile(1), json_response({}))
    assert result.verdict is Verdict.DIFFERENT
    assert [(d.key, d.kind) for d in result.differences] == [("served_at", DiffKind.MISSING)]


def test_clusters_group_requests_by_signature_with_at_most_five_examples():
    ticks = count(1000)
    compare = engine(clock=lambda: float(next(ticks)))
    for i in range(8):
        compare.compare(
            ROUTE,
            request(f"/api/v1/products/{i}/"),
            json_response({"price": "1", "id": i}),
            json_response({"price": "2", "id": i}),
        )
    compare.compare(ROUTE, request(), json_response({"a": 1}), json_response({"a": 1, "b": 1}))
    report = compare.report(ROUTE)
    assert report is not None
    first, second = report.clusters
    assert (first.signature, first.count) == ((("price", "value"),), 8)
    assert (first.first_seen, first.last_seen) == (1000.0, 1007.0)
    assert len(first.examples) == 5
    example = first.examples[0]
    assert example.target == "/api/v1/products/0/"
    assert [(d.path, d.base, d.candidate) for d in example.differences] == [("price", '"1"', '"2"')]
    assert second.signature == (("b", "extra"),)


def test_the_aggregate_is_bounded_and_counts_what_it_dropped():
    compare = engine(limits=StoreLimits(max_keys_per_route=3, max_clusters_per_route=2))
    for i in range(6):
        result = compare.compare(
            ROUTE, request(), json_response({f"k{i}": 1}), json_response({f"k{i}": 2})
        )
        assert result.verdict is Verdict.DIFFERENT  # untracked keys are still real
    report = compare.report(ROUTE)
    assert report is not None
    assert len(report.fields) == 3
    assert report.dropped_keys == 3
    assert len(report.clusters) == 2
    assert report.dropped_clusters == 4


def test_routes_past_the_cap_are_judged_but_not_kept():
    compare = engine(limits=StoreLimits(max_routes=1))
    compare.compare("one", request(), json_response({"a": 1}), json_response({"a": 2}))
    result = compare.compare("two", request(), json_response({"a": 1}), json_response({"a": 2}))
    assert result.verdict is Verdict.DIFFERENT
    assert [r.route for r in compare.reports()] == ["one"]
    assert compare.dropped_routes == 1
