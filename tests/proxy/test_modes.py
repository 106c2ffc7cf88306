from __future__ import annotations

import pytest

from proxy.config import parse_table_config
from proxy.modes import decide
from proxy.routing import CompiledRoute, RouteTable

UPSTREAMS = {
    "monolith": {"url": "http://127.0.0.1:8100"},
    "catalog": {"url": "http://127.0.0.1:8200"},
}


def compiled(**fields: object) -> CompiledRoute:
    config = {
        "upstreams": UPSTREAMS,
        "routes": [{"name": "r", "prefix": "/p/", "owner": "catalog", **fields}],
    }
    found = RouteTable(parse_table_config(config, source="t")).route("r")
    assert found is not None
    return found


def sides(route: CompiledRoute, users: range, method: str = "GET") -> list[str]:
    return [
        decide(
            route, legacy="monolith", method=method, cohort_key=f"user-{n}", shadow_draw=0.5
        ).primary
        for n in users
    ]


def test_unmatched_paths_go_to_the_monolith() -> None:
    assert (
        decide(None, legacy="monolith", method="GET", cohort_key=None, shadow_draw=0).primary
        == "monolith"
    )


def test_monolith_mode_never_calls_the_service() -> None:
    decision = decide(
        compiled(mode="monolith"), legacy="monolith", method="GET", cohort_key="u", shadow_draw=0
    )

    assert (decision.primary, decision.shadow, decision.fallback) == ("monolith", None, None)


def test_service_mode_answers_from_the_service_with_fallback_for_idempotent_methods() -> None:
    route = compiled(mode="service", fallback=True)

    get = decide(route, legacy="monolith", method="GET", cohort_key=None, shadow_draw=0)
    post = decide(route, legacy="monolith", method="POST", cohort_key=None, shadow_draw=0)

    assert (get.primary, get.fallback) == ("catalog", "monolith")
    assert (post.primary, post.fallback) == ("catalog", None)


@pytest.mark.parametrize(
    ("method", "unsafe", "shadowed"),
    [("GET", False, True), ("POST", False, False), ("POST", True, True)],
)
def test_shadow_mode_copies_safe_methods_unless_the_route_allows_unsafe_ones(
    method: str, unsafe: bool, shadowed: bool
) -> None:
    route = compiled(mode="shadow", shadow={"unsafe_methods": unsafe})

    decision = decide(route, legacy="monolith", method=method, cohort_key=None, shadow_draw=0.1)

    assert decision.primary == "monolith"
    assert (decision.shadow == "catalog") is shadowed


def test_shadow_sampling_follows_the_draw() -> None:
    route = compiled(mode="shadow", shadow={"sample_rate": 0.25})

    assert (
        decide(route, legacy="monolith", method="GET", cohort_key=None, shadow_draw=0.2).shadow
        == "catalog"
    )
    assert (
        decide(route, legacy="monolith", method="GET", cohort_key=None, shadow_draw=0.3).shadow
        is None
    )


def test_canary_keeps_a_user_on_the_same_side() -> None:
    route = compiled(mode="canary", canary_percent=50)

    assert sides(route, range(200)) == sides(route, range(200))


def test_canary_split_matches_the_percentage_over_many_users() -> None:
    route = compiled(mode="canary", canary_percent=20)

    share = sides(route, range(20_000)).count("catalog") / 20_000

    assert share == pytest.approx(0.20, abs=0.01)


def test_raising_the_canary_only_moves_users_towards_the_service() -> None:
    before = sides(compiled(mode="canary", canary_percent=10), range(5_000))
    after = sides(compiled(mode="canary", canary_percent=30), range(5_000))

    moved_back = [n for n in range(5_000) if before[n] == "catalog" and after[n] == "monolith"]
    assert moved_back == []
    assert after.count("catalog") > before.count("catalog")


def test_canary_without_a_cohort_key_stays_on_the_monolith() -> None:
    route = compiled(mode="canary", canary_percent=100)

    assert (
        decide(route, legacy="monolith", method="GET", cohort_key=None, shadow_draw=0).primary
        == "monolith"
    )


def test_a_forced_side_overrides_the_mode() -> None:
    route = compiled(mode="monolith")

    assert (
        decide(
            route, legacy="monolith", method="GET", cohort_key=None, shadow_draw=0, force="owner"
        ).primary
        == "catalog"
    )
