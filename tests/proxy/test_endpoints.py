"""Picking an endpoint and ejecting one: decisions only, with the clock and the random
draws injected."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable

import pytest
from prometheus_client import REGISTRY

from strangler.proxy.endpoints import Endpoint, EndpointSet
from strangler.proxy.upstream_config import OutlierConfig

OUTLIER = OutlierConfig(
    consecutive_failures=3, ejection_seconds=10, max_ejection_seconds=35, max_ejection_percent=50
)


class Load:
    """An endpoint's pool as the picker sees it: requests in flight."""

    def __init__(self, in_use: int = 0) -> None:
        self.in_use = in_use


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Draws(random.Random):
    """``random()`` answers these values in turn."""

    def __init__(self, values: Iterable[float]) -> None:
        super().__init__(0)
        self.values = list(values)

    def random(self) -> float:
        return self.values.pop(0)


def endpoints(*loads: int) -> list[Endpoint]:
    return [Endpoint(f"http://10.0.0.{i + 1}:80", Load(n)) for i, n in enumerate(loads)]  # type: ignore[arg-type]


def endpoint_set(
    members: list[Endpoint], *, rng: random.Random | None = None, outlier: OutlierConfig = OUTLIER
) -> tuple[EndpointSet, Clock]:
    clock = Clock()
    return EndpointSet("catalog", members, outlier, rng=rng or random.Random(7), clock=clock), clock


def fail(chosen: EndpointSet, endpoint: Endpoint, times: int) -> list[bool]:
    return [chosen.failed(endpoint) for _ in range(times)]


def test_of_two_endpoints_drawn_the_one_with_fewer_requests_in_flight_is_picked() -> None:
    busy, idle, other = endpoints(5, 0, 0)
    # Draws 0.0, 0.0: the first endpoint, then the first of the others (the second).
    chosen, _ = endpoint_set([busy, idle, other], rng=Draws([0.0, 0.0]))

    assert chosen.pick() is idle


def test_a_tie_goes_to_the_first_drawn() -> None:
    a, b, c = endpoints(1, 1, 1)
    # 0.9 * 3 -> the third; 0.0 * 2 -> the first.
    chosen, _ = endpoint_set([a, b, c], rng=Draws([0.9, 0.0]))

    assert chosen.pick() is c


def test_idle_endpoints_share_the_requests_evenly() -> None:
    members = endpoints(0, 0, 0)
    chosen, _ = endpoint_set(members)

    picks = Counter(chosen.pick() for _ in range(3000))

    assert set(picks) == set(members)
    assert all(800 < count < 1200 for count in picks.values()), picks


def test_an_endpoint_with_requests_piling_up_is_never_picked_over_an_idle_one() -> None:
    slow, *fast = endpoints(10, 0, 0, 0)
    chosen, _ = endpoint_set([slow, *fast])

    picks = Counter(chosen.pick() for _ in range(1000))

    assert picks[slow] == 0


def test_a_fresh_endpoint_takes_its_share_not_the_whole_herd() -> None:
    # Nine endpoints with a request each and one just back, empty: plain least-outstanding
    # would send it every request; two choices send it those where it is drawn (~20 %).
    fresh, *loaded = endpoints(0, *[1] * 9)
    chosen, _ = endpoint_set([fresh, *loaded])

    picks = Counter(chosen.pick() for _ in range(5000))

    assert 0.15 < picks[fresh] / 5000 < 0.25


def test_failures_in_a_row_eject_an_endpoint_which_then_takes_no_request() -> None:
    bad, good, other = endpoints(0, 0, 0)
    chosen, _ = endpoint_set([bad, good, other])

    assert fail(chosen, bad, 3) == [False, False, True]

    assert chosen.state(bad) == "ejected"
    assert chosen.ejected_for(bad) == 10
    assert bad not in {chosen.pick() for _ in range(200)}


def test_a_success_between_failures_starts_the_count_again() -> None:
    bad, good = endpoints(0, 0)
    chosen, _ = endpoint_set([bad, good])

    fail(chosen, bad, 2)
    chosen.succeeded(bad)
    fail(chosen, bad, 2)

    assert chosen.state(bad) == "unchecked"


def test_an_ejected_endpoint_comes_back_when_its_time_is_out() -> None:
    bad, good, other = endpoints(0, 0, 0)
    chosen, clock = endpoint_set([bad, good, other])
    fail(chosen, bad, 3)

    clock.now += 9.9
    assert bad not in {chosen.pick() for _ in range(200)}
    clock.now += 0.1

    assert chosen.state(bad) != "ejected"
    assert bad in {chosen.pick() for _ in range(200)}


def test_an_endpoint_ejected_again_soon_after_is_out_twice_as_long_up_to_the_cap() -> None:
    bad, *others = endpoints(0, 0, 0)
    chosen, clock = endpoint_set([bad, *others])

    times = []
    for _ in range(4):
        fail(chosen, bad, 3)
        times.append(chosen.ejected_for(bad))
        clock.now += chosen.ejected_for(bad) + 1  # back, and failing again at once

    assert times == [10, 20, 35, 35]
    assert bad.ejections == 4


def test_an_endpoint_that_behaved_as_long_as_it_was_out_starts_again_from_the_base() -> None:
    bad, *others = endpoints(0, 0, 0)
    chosen, clock = endpoint_set([bad, *others])
    fail(chosen, bad, 3)
    clock.now += 10 + 1
    fail(chosen, bad, 3)  # 20 s
    clock.now += 20 + 20  # back for as long as it was out

    fail(chosen, bad, 3)

    assert chosen.ejected_for(bad) == 10


def test_no_more_than_the_max_ejection_percent_are_out_at_once() -> None:
    members = endpoints(0, 0, 0, 0, 0)
    chosen, _ = endpoint_set(members)  # 50 % of 5: two

    ejected = [any(fail(chosen, endpoint, 3)) for endpoint in members]

    assert ejected == [True, True, False, False, False]
    assert [chosen.state(e) for e in members].count("ejected") == 2


def test_a_lone_endpoint_is_never_ejected() -> None:
    (only,) = endpoints(0)
    chosen, _ = endpoint_set([only])  # 50 % of one endpoint: none

    assert not any(fail(chosen, only, 30))
    assert chosen.pick() is only


def test_with_every_endpoint_ejected_the_requests_still_go_to_them() -> None:
    members = endpoints(0, 0)
    chosen, _ = endpoint_set(
        members, outlier=OUTLIER.model_copy(update={"max_ejection_percent": 100})
    )

    for endpoint in members:
        fail(chosen, endpoint, 3)

    assert [chosen.state(e) for e in members] == ["ejected", "ejected"]
    assert {chosen.pick() for _ in range(100)} == set(members)


def test_max_ejection_percent_zero_turns_ejection_off() -> None:
    members = endpoints(0, 0, 0)
    chosen, _ = endpoint_set(
        members, outlier=OUTLIER.model_copy(update={"max_ejection_percent": 0})
    )

    assert not any(fail(chosen, members[0], 30))


def test_an_endpoint_failing_its_health_check_takes_no_request_while_others_pass() -> None:
    sick, well, other = endpoints(0, 0, 0)
    chosen, _ = endpoint_set([sick, well, other])

    sick.health.healthy = False
    chosen.health_changed()

    assert sick not in {chosen.pick() for _ in range(200)}
    assert chosen.state(sick) == "unhealthy"


def test_when_every_endpoint_is_out_the_requests_go_to_all_of_them() -> None:
    members = endpoints(0, 0, 0)
    chosen, _ = endpoint_set(members)
    for endpoint in members:
        endpoint.health.healthy = False
    chosen.health_changed()

    assert chosen.panicking
    assert {chosen.pick() for _ in range(200)} == set(members)


def test_a_retry_after_a_refused_connection_avoids_the_endpoint_that_refused() -> None:
    refused, a, b = endpoints(0, 0, 0)
    chosen, _ = endpoint_set([refused, a, b])

    assert refused not in {chosen.pick(avoid=refused) for _ in range(200)}


def test_no_endpoint_at_all_picks_none() -> None:
    chosen, _ = endpoint_set([])

    assert chosen.pick() is None


def test_an_ejection_is_counted_by_upstream_and_endpoint() -> None:
    bad, *others = endpoints(0, 0, 0)
    chosen, _ = endpoint_set([bad, *others])
    labels = {"upstream": "catalog", "endpoint": bad.base_url}
    before = REGISTRY.get_sample_value("strangler_proxy_endpoint_ejections_total", labels) or 0

    fail(chosen, bad, 3)

    after = REGISTRY.get_sample_value("strangler_proxy_endpoint_ejections_total", labels)
    assert after == before + 1


@pytest.mark.parametrize("draws", [[0.0, 0.99], [0.99, 0.0], [0.5, 0.5]])
def test_the_two_drawn_endpoints_are_always_different(draws: list[float]) -> None:
    a, b = endpoints(3, 0)
    chosen, _ = endpoint_set([a, b], rng=Draws(draws))

    assert chosen.pick() is b
