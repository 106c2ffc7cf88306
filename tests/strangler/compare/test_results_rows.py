"""The results file's rows: a delta added on an open connection reads back as the same
state, adds to what is there, and what exceeds the limits is counted as dropped."""

from __future__ import annotations

import sqlite3

import pytest

from strangler.compare.latency import HistogramState
from strangler.compare.results_rows import add_delta, read_states
from strangler.compare.results_schema import SCHEMA
from strangler.compare.state import AggregateState, FieldCounts
from strangler.compare.store import StoreLimits


@pytest.fixture
def db():
    connection = sqlite3.connect(":memory:", isolation_level=None)
    connection.executescript(SCHEMA)
    yield connection
    connection.close()


def _delta(route="products", *, keys=("$.price",)):
    return AggregateState(
        route=route,
        verdicts={"equal": 3, "real_different": 1},
        comparisons=4,
        base_samples=2,
        fields={(key, "value"): FieldCounts(1, 0, 0, False) for key in keys},
        statuses={("200", "200"): 4},
        latency={"base": HistogramState({3: 4}, 4, 0.04)},
    )


def test_a_delta_reads_back_as_the_same_state(db):
    add_delta(db, _delta(), limits=StoreLimits(), now=1.0)

    assert read_states(db) == [_delta()]


def test_a_second_delta_adds_to_the_first(db):
    add_delta(db, _delta(), limits=StoreLimits(), now=1.0)
    add_delta(db, _delta(), limits=StoreLimits(), now=2.0)

    (state,) = read_states(db)
    assert (state.comparisons, state.verdicts["equal"]) == (8, 6)
    assert state.fields[("$.price", "value")].candidate == 2
    assert state.latency["base"] == HistogramState({3: 8}, 8, 0.08)


def test_keys_past_the_limit_are_counted_as_dropped(db):
    add_delta(
        db, _delta(keys=("$.a", "$.b", "$.c")), limits=StoreLimits(max_keys_per_route=2), now=1.0
    )

    (state,) = read_states(db)
    assert len(state.fields) == 2
    assert state.dropped_keys == 1


def test_routes_read_back_by_name(db):
    add_delta(db, _delta("products"), limits=StoreLimits(), now=1.0)
    add_delta(db, _delta("categories"), limits=StoreLimits(), now=1.0)

    assert [state.route for state in read_states(db)] == ["categories", "products"]
