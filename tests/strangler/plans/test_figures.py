"""Figures over a step's window: differences of cumulative counters, quantiles of buckets."""

from __future__ import annotations

from pathlib import Path

import pytest

from strangler.plans.figures import Measurement, RouteCounts, Snapshot, StreamState, measure
from strangler.plans.gates import evaluate
from strangler.plans.schema import Condition, Gate, load_plan

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def plan():
    return load_plan(REPO / "migration_plans" / "catalog.yaml")


def stream(**overrides: object) -> StreamState:
    values: dict[str, object] = {
        "enabled": True,
        "paused_reason": "",
        "backlog": 0,
        "lag_seconds": 0.5,
        "dead_letters": 0,
        "reconcile_finished_at": None,
        "reconcile_diverged": None,
    }
    values.update(overrides)
    return StreamState(**values)  # type: ignore[arg-type]


def counts(
    *, catalog: tuple[float, float], monolith: tuple[float, float], match=0.0, mismatch=0.0,
    catalog_buckets=None, monolith_buckets=None,
) -> RouteCounts:  # fmt: skip
    return RouteCounts(
        requests={"catalog": catalog[0], "monolith": monolith[0]},
        errors={"catalog": catalog[1], "monolith": monolith[1]},
        latency_buckets={
            "catalog": catalog_buckets or {},
            "monolith": monolith_buckets or {},
        },
        shadow_match=match,
        shadow_mismatch=mismatch,
    )


def test_rates_count_only_what_happened_during_the_step(plan):
    before = Snapshot(100.0, counts(catalog=(1000, 500), monolith=(1000, 0), match=900,
                                    mismatch=100), stream(), stream())  # fmt: skip
    after = Snapshot(200.0, counts(catalog=(1200, 502), monolith=(1400, 2), match=1095,
                                   mismatch=105), stream(), stream())  # fmt: skip
    figures = measure(plan, since=before, now=after)
    assert figures["shadow_difference_rate"].value == pytest.approx(5 / 200)
    assert figures["shadow_difference_rate"].count == 200
    assert figures["service_error_rate"].value == pytest.approx(2 / 200)
    assert figures["service_error_rate_excess"].value == pytest.approx(2 / 200 - 2 / 400)
    assert figures["service_error_rate_excess"].count == 200


def test_p99_ratio_compares_the_windows_latency_buckets(plan):
    zero = {"0.01": 0.0, "0.1": 0.0, "1.0": 0.0, "+Inf": 0.0}
    before = Snapshot(0.0, counts(catalog=(0, 0), monolith=(0, 0), catalog_buckets=zero,
                                  monolith_buckets=zero), None, None)  # fmt: skip
    after = Snapshot(
        1.0,
        counts(
            catalog=(100, 0),
            monolith=(100, 0),
            catalog_buckets={"0.01": 50.0, "0.1": 98.0, "1.0": 100.0, "+Inf": 100.0},
            monolith_buckets={"0.01": 99.0, "0.1": 100.0, "1.0": 100.0, "+Inf": 100.0},
        ),
        None,
        None,
    )
    figures = measure(plan, since=before, now=after)
    # The 99th of 100 requests: the catalog's is halfway into (0.1, 1.0], the monolith's at
    # the top of (0, 0.01].
    assert figures["service_latency_p99_ratio"].value == pytest.approx(0.55 / 0.01)


def test_one_request_a_bucket_slower_does_not_double_the_p99_ratio(plan):
    zero = {"0.001": 0.0, "0.0025": 0.0, "0.005": 0.0, "+Inf": 0.0}
    before = Snapshot(0.0, counts(catalog=(0, 0), monolith=(0, 0), catalog_buckets=zero,
                                  monolith_buckets=zero), None, None)  # fmt: skip
    after = Snapshot(
        1.0,
        counts(
            catalog=(60, 0),
            monolith=(60, 0),
            catalog_buckets={"0.001": 50.0, "0.0025": 59.0, "0.005": 60.0, "+Inf": 60.0},
            monolith_buckets={"0.001": 50.0, "0.0025": 60.0, "0.005": 60.0, "+Inf": 60.0},
        ),
        None,
        None,
    )
    ratio = measure(plan, since=before, now=after)["service_latency_p99_ratio"].value
    # Rank 59.4: the catalog's 0.4 into (2.5, 5] ms, the monolith's 0.94 into (1, 2.5] ms.
    assert ratio == pytest.approx((0.0025 + 0.4 * 0.0025) / (0.001 + 0.94 * 0.0015))
    assert ratio < 1.5


def test_without_requests_a_rate_has_no_value(plan):
    same = counts(catalog=(10, 0), monolith=(10, 0))
    figures = measure(plan, since=Snapshot(0, same, None, None), now=Snapshot(1, same, None, None))
    assert figures["service_error_rate"].value is None
    assert figures["shadow_difference_rate"].value is None
    assert figures["sync_lag_seconds"].value is None


def test_only_a_reconcile_finished_during_the_step_counts(plan):
    old = stream(reconcile_finished_at=50.0, reconcile_diverged=0)
    since = Snapshot(100.0, None, old, None)
    assert (
        measure(plan, since=since, now=Snapshot(150.0, None, old, None))["reconcile_diverged"].value
        is None
    )
    fresh = stream(reconcile_finished_at=120.0, reconcile_diverged=3)
    assert (
        measure(plan, since=since, now=Snapshot(150.0, None, fresh, None))[
            "reconcile_diverged"
        ].value
        == 3
    )


def test_a_snapshot_survives_its_json_form(plan):
    snapshot = Snapshot(
        5.0, counts(catalog=(1, 0), monolith=(2, 1), match=3), stream(), None, ["x"]
    )
    assert Snapshot.from_json(snapshot.as_json()) == snapshot


def test_a_request_the_service_failed_and_the_monolith_answered_counts_against_the_service(plan):
    before = Snapshot(0.0, counts(catalog=(0, 0), monolith=(0, 0)), None, None)
    after_counts = counts(catalog=(90, 0), monolith=(110, 0))
    after_counts.fallbacks = 10.0  # 10 of the monolith's 110 answers were fallbacks
    figures = measure(plan, since=before, now=Snapshot(1.0, after_counts, None, None))
    assert figures["service_error_rate"].value == pytest.approx(10 / 100)
    assert figures["service_error_rate"].count == 100
    assert figures["service_error_rate_excess"].value == pytest.approx(10 / 100)


def test_the_service_s_requests_are_counted_under_its_proxy_upstream_name(tmp_path):
    text = (REPO / "migration_plans" / "catalog.yaml").read_text(encoding="utf-8")
    path = tmp_path / "catalog.yaml"
    path.write_text(
        text.replace('manage: "python -m extracted.catalog"}',
                     'manage: "python -m extracted.catalog", upstream: catalog-api}'),
        encoding="utf-8",
    )  # fmt: skip
    renamed = load_plan(path)
    before = RouteCounts(requests={"catalog-api": 100, "monolith": 100})
    after = RouteCounts(
        requests={"catalog-api": 300, "monolith": 200}, errors={"catalog-api": 4, "monolith": 1}
    )

    figures = measure(
        renamed,
        since=Snapshot(0.0, before, stream(), stream()),
        now=Snapshot(1.0, after, stream(), stream()),
    )

    assert figures["service_error_rate"].value == pytest.approx(4 / 200)
    assert figures["service_error_rate"].count == 200


# a fleet of proxies: each replica's counts kept beside their sum


def fleet(**replicas: RouteCounts) -> RouteCounts:
    total = RouteCounts(sources=dict(replicas))
    for counted in replicas.values():
        total.add(counted)
    return total


def test_a_fleets_window_is_each_replicas_window_summed(plan):
    before = fleet(a=counts(catalog=(100, 1), monolith=(100, 0)),
                   b=counts(catalog=(50, 0), monolith=(50, 0)))  # fmt: skip
    after = fleet(a=counts(catalog=(200, 3), monolith=(300, 0)),
                  b=counts(catalog=(150, 2), monolith=(50, 0)))  # fmt: skip

    figures = measure(
        plan, since=Snapshot(0, before, None, None), now=Snapshot(1, after, None, None)
    )

    assert figures["service_error_rate"].value == pytest.approx(4 / 200)
    assert figures["service_error_rate"].count == 200


def test_a_replica_restarted_during_the_step_counts_what_it_served_since(plan):
    # b restarted: its counters began again from zero, and the sums went down.
    before = fleet(a=counts(catalog=(100, 0), monolith=(100, 0)),
                   b=counts(catalog=(900, 90), monolith=(900, 0)))  # fmt: skip
    after = fleet(a=counts(catalog=(150, 0), monolith=(150, 0)),
                  b=counts(catalog=(50, 5), monolith=(50, 0)))  # fmt: skip

    figures = measure(
        plan, since=Snapshot(0, before, None, None), now=Snapshot(1, after, None, None)
    )

    assert figures["service_error_rate"].value == pytest.approx(5 / 100)
    assert figures["service_error_rate"].count == 100


def test_a_replica_that_joined_during_the_step_counts_everything_it_served(plan):
    before = fleet(a=counts(catalog=(100, 0), monolith=(100, 0)))
    after = fleet(a=counts(catalog=(110, 0), monolith=(110, 0)),
                  c=counts(catalog=(30, 3), monolith=(30, 0)))  # fmt: skip

    figures = measure(
        plan, since=Snapshot(0, before, None, None), now=Snapshot(1, after, None, None)
    )

    assert figures["service_error_rate"].value == pytest.approx(3 / 40)


def test_a_proxy_restarted_during_the_step_never_gives_a_negative_rate(plan):
    before = counts(catalog=(1000, 500), monolith=(1000, 0), match=900, mismatch=100)
    after = counts(catalog=(10, 1), monolith=(10, 0), match=9, mismatch=1)

    figures = measure(
        plan, since=Snapshot(0, before, None, None), now=Snapshot(1, after, None, None)
    )

    assert figures["service_error_rate"].value == pytest.approx(1 / 10)
    assert figures["shadow_difference_rate"].value == pytest.approx(1 / 10)


def test_counts_from_part_of_the_fleet_make_every_traffic_gate_inconclusive_saying_why(plan):
    why = "proxy metrics: 2 of 3 replicas answered (http://10.0.0.3:8001: refused)"
    before = Snapshot(0, fleet(a=counts(catalog=(1, 0), monolith=(1, 0))), None, None)
    now = Snapshot(1, None, None, None, proxy_missing=why)
    gate = Gate(conditions=(Condition(figure="service_error_rate", max=0.01),))

    figures = measure(plan, since=before, now=now)
    result = evaluate(gate, figures, step_seconds=600)

    assert figures["service_error_rate"] == Measurement(None, missing=why)
    assert (result.verdict, result.reason) == ("inconclusive", f"service_error_rate: {why}")


def test_a_fleets_snapshot_survives_its_json_form(plan):
    snapshot = Snapshot(5.0, fleet(a=counts(catalog=(1, 0), monolith=(2, 1))), None, None,
                        proxy_missing="")  # fmt: skip
    assert Snapshot.from_json(snapshot.as_json()) == snapshot
