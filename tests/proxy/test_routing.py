from __future__ import annotations

import pytest

from strangler.proxy.config import parse_table_config
from strangler.proxy.errors import ConfigError
from strangler.proxy.routing import RouteTable

UPSTREAMS = {
    "monolith": {"url": "http://127.0.0.1:8100"},
    "catalog": {"url": "http://127.0.0.1:8200"},
}


def table(*routes: dict[str, object]) -> RouteTable:
    return RouteTable(
        parse_table_config({"upstreams": UPSTREAMS, "routes": list(routes)}, source="t")
    )


def route(name: str, **fields: object) -> dict[str, object]:
    return {"name": name, "owner": "catalog", **fields}


def matched(t: RouteTable, path: str, method: str = "GET") -> str | None:
    found = t.match(method, path)
    return found.name if found else None


def test_an_exact_path_beats_a_pattern_and_a_prefix_whatever_the_file_order() -> None:
    t = table(
        route("prefix", prefix="/api/v1/products/"),
        route("pattern", path="/api/v1/products/<str:key>/"),
        route("exact", path="/api/v1/products/featured/"),
    )

    assert matched(t, "/api/v1/products/featured/") == "exact"
    assert matched(t, "/api/v1/products/7/") == "pattern"
    assert matched(t, "/api/v1/products/7/reviews/") == "prefix"


def test_the_longest_prefix_wins() -> None:
    t = table(route("api", prefix="/api/"), route("products", prefix="/api/v1/products/"))

    assert matched(t, "/api/v1/products/1/") == "products"
    assert matched(t, "/api/v1/orders/") == "api"


def test_a_stricter_converter_wins_at_equal_literal_length() -> None:
    t = table(
        route("by-slug", path="/p/<slug:slug>/"),
        route("by-id", path="/p/<int:id>/"),
    )

    assert matched(t, "/p/42/") == "by-id"
    assert matched(t, "/p/red-shoe/") == "by-slug"


def test_converters_match_like_django() -> None:
    t = table(route("detail", path="/api/v1/products/<int:id>/"))

    assert matched(t, "/api/v1/products/12/") == "detail"
    assert matched(t, "/api/v1/products/-12/") is None
    assert matched(t, "/api/v1/products/12") is None
    assert matched(t, "/api/v1/products/12/extra/") is None


def test_methods_restrict_a_route_and_get_admits_head() -> None:
    t = table(route("reads", prefix="/api/v1/products/", methods=["GET"]))

    assert matched(t, "/api/v1/products/", "GET") == "reads"
    assert matched(t, "/api/v1/products/", "HEAD") == "reads"
    assert matched(t, "/api/v1/products/", "POST") is None


def test_a_method_specific_route_beats_an_all_methods_route_on_the_same_pattern() -> None:
    t = table(route("all", prefix="/api/v1/"), route("writes", prefix="/api/v1/", methods=["POST"]))

    assert matched(t, "/api/v1/x/", "POST") == "writes"
    assert matched(t, "/api/v1/x/", "GET") == "all"


def test_an_unknown_converter_is_refused_naming_the_route() -> None:
    with pytest.raises(ConfigError, match=r"routes\[0\] \(bad\), field 'path': unknown converter"):
        table(route("bad", path="/p/<float:x>/"))


def test_check_reports_a_route_hidden_behind_the_same_pattern() -> None:
    t = table(
        route("first", prefix="/api/"),
        route("second", prefix="/api/", methods=["GET"]),
        route("third", prefix="/api/"),
    )

    findings = {(f.route, f.severity) for f in t.findings()}

    assert ("third", "error") in findings
    assert ("second", "error") not in findings


def test_check_reports_an_overlap_between_differently_served_routes() -> None:
    t = table(
        route("products", path="/api/v1/products/<int:id>/", mode="service"),
        route("everything", path="/api/v1/<str:kind>/<str:key>/", owner="monolith"),
    )

    findings = t.findings()

    assert [(f.route, f.severity) for f in findings] == [("everything", "warning")]
