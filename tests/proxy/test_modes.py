from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strangler.proxy.config import parse_table_config
from strangler.proxy.errors import ConfigError
from strangler.proxy.modes import decide
from strangler.proxy.route_config import SAFE_METHODS
from strangler.proxy.routing import CompiledRoute, RouteTable

UPSTREAMS = {
    "monolith": {"url": "http://127.0.0.1:8100"},
    "catalog": {"url": "http://127.0.0.1:8200"},
}


def compiled(*, upstreams: dict[str, Any] | None = None, **fields: object) -> CompiledRoute:
    config = {
        "upstreams": upstreams or UPSTREAMS,
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


def test_service_mode_answers_reads_from_the_service_with_fallback_and_writes_from_the_owner() -> (
    None
):
    route = compiled(mode="service", fallback=True)

    get = decide(route, legacy="monolith", method="GET", cohort_key=None, shadow_draw=0)
    post = decide(route, legacy="monolith", method="POST", cohort_key=None, shadow_draw=0)
    put = decide(route, legacy="monolith", method="PUT", cohort_key=None, shadow_draw=0)

    assert (get.primary, get.fallback) == ("catalog", "monolith")
    assert (post.primary, post.fallback) == ("monolith", None)
    assert (put.primary, put.fallback) == ("monolith", None)


def test_after_cutover_writes_go_to_the_service_and_never_fall_back() -> None:
    route = compiled(mode="service", fallback=True, write_owner="catalog")

    delete = decide(route, legacy="monolith", method="DELETE", cohort_key=None, shadow_draw=0)

    assert (delete.primary, delete.fallback) == ("catalog", None)


SANDBOXED = {**UPSTREAMS, "catalog": {"url": "http://127.0.0.1:8200", "sandbox": True}}


@pytest.mark.parametrize(
    ("method", "unsafe", "shadowed"),
    [("GET", False, True), ("POST", False, False), ("POST", True, True)],
)
def test_shadow_mode_copies_safe_methods_unless_the_route_allows_unsafe_ones(
    method: str, unsafe: bool, shadowed: bool
) -> None:
    route = compiled(upstreams=SANDBOXED, mode="shadow", shadow={"unsafe_methods": unsafe})

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


def test_shadowing_writes_to_a_service_that_is_not_a_sandbox_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"field 'shadow.unsafe_methods': a shadowed write"):
        compiled(mode="shadow", shadow={"unsafe_methods": True})


@pytest.mark.parametrize("mode", ["monolith", "shadow"])
def test_the_service_cannot_own_the_writes_while_the_monolith_answers_every_read(
    mode: str,
) -> None:
    with pytest.raises(ConfigError, match="field 'write_owner': the owner can take the writes"):
        compiled(mode=mode, write_owner="catalog")


def test_a_write_owner_must_be_the_legacy_or_the_routes_owner() -> None:
    upstreams = {**UPSTREAMS, "orders": {"url": "http://127.0.0.1:8300"}}
    with pytest.raises(ConfigError, match="'orders' is neither the legacy upstream"):
        compiled(upstreams=upstreams, mode="service", write_owner="orders")


METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]


@given(
    mode=st.sampled_from(["monolith", "shadow", "canary", "service"]),
    method=st.sampled_from(METHODS),
    percent=st.sampled_from([0, 10, 50, 100]),
    cohort=st.one_of(st.none(), st.text(min_size=1, max_size=12)),
    force=st.sampled_from([None, "owner", "legacy"]),
    fallback=st.booleans(),
    writer_is_service=st.booleans(),
    wrote_recently=st.booleans(),
    draw=st.floats(min_value=0, max_value=0.999),
)
def test_an_unsafe_request_goes_only_to_the_write_owner_and_a_safe_one_follows_the_reads(
    mode: str,
    method: str,
    percent: int,
    cohort: str | None,
    force: Any,
    fallback: bool,
    writer_is_service: bool,
    wrote_recently: bool,
    draw: float,
) -> None:
    if writer_is_service and mode not in ("canary", "service"):
        writer_is_service = False  # refused by the table (tested above)
    writer = "catalog" if writer_is_service else "monolith"
    route = compiled(
        mode=mode,
        canary_percent=percent,
        fallback=fallback,
        write_owner=writer,
    )

    decision = decide(
        route,
        legacy="monolith",
        method=method,
        cohort_key=cohort,
        shadow_draw=draw,
        force=force,
        wrote_recently=wrote_recently,
    )

    if method not in SAFE_METHODS:
        assert decision.primary == writer
        assert decision.fallback is None
        assert decision.shadow is None  # the owner is no sandbox here
        return
    if force is not None:
        assert decision.primary == ("catalog" if force == "owner" else "monolith")
    elif mode in ("monolith", "shadow"):
        assert decision.primary == "monolith"
    elif wrote_recently:
        assert decision.primary == writer
    elif mode == "service":
        assert decision.primary == "catalog"
    else:  # canary: the reads follow the cohort
        assert decision.primary in ("monolith", "catalog")
        if percent == 0 or cohort is None:
            assert decision.primary == "monolith"
        if percent == 100 and cohort is not None:
            assert decision.primary == "catalog"
    assert decision.fallback in (None, "monolith")
    if decision.fallback is not None:
        assert fallback
        assert decision.primary == "catalog"
