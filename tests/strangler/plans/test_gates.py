"""A gate's verdict: passed only on enough data within bounds; failed wins; else inconclusive."""

from __future__ import annotations

from strangler.plans.figures import Measurement
from strangler.plans.gates import evaluate
from strangler.plans.schema import Condition, Gate

RATE = Condition(figure="shadow_difference_rate", max=0.01, min_count=100)
LAG = Condition(figure="sync_lag_seconds", max=5)


def test_a_gate_passes_when_every_figure_is_within_bounds_on_enough_events():
    result = evaluate(
        Gate(conditions=(RATE, LAG)),
        {
            "shadow_difference_rate": Measurement(0.005, 150),
            "sync_lag_seconds": Measurement(1.0),
        },
        step_seconds=60,
    )
    assert result.verdict == "passed"


def test_a_figure_above_its_bound_fails_the_gate_and_says_which():
    result = evaluate(
        Gate(conditions=(RATE, LAG)),
        {"shadow_difference_rate": Measurement(0.002, 500), "sync_lag_seconds": Measurement(9)},
        step_seconds=60,
    )
    assert result.verdict == "failed"
    assert "sync_lag_seconds is 9, above its limit 5" in result.reason


def test_missing_data_is_inconclusive_never_passed():
    result = evaluate(Gate(conditions=(LAG,)), {}, step_seconds=60)
    assert result.verdict == "inconclusive"
    assert "no data yet" in result.reason


def test_too_few_events_is_inconclusive_even_with_a_perfect_rate():
    result = evaluate(
        Gate(conditions=(RATE,)), {"shadow_difference_rate": Measurement(0.0, 99)}, step_seconds=60
    )
    assert result.verdict == "inconclusive"
    assert "99 of the 100 events" in result.reason


def test_a_failure_wins_over_an_inconclusive_figure():
    result = evaluate(
        Gate(conditions=(RATE, LAG)), {"sync_lag_seconds": Measurement(30)}, step_seconds=60
    )
    assert result.verdict == "failed"


def test_a_step_younger_than_its_minimum_is_inconclusive():
    result = evaluate(
        Gate(conditions=(LAG,), min_seconds=30),
        {"sync_lag_seconds": Measurement(0)},
        step_seconds=5,
    )
    assert result.verdict == "inconclusive"
    assert "5 s of the 30 s" in result.reason


def test_a_gate_without_conditions_passes():
    assert evaluate(Gate(), {}, step_seconds=0).verdict == "passed"
