"""Patterns as routes: per pattern, per app prefix, and the names they get."""

from __future__ import annotations

from strangler.urlconf.table import Pattern, build_table


def pattern(index: int, path: str, app: str, *, url_name: str | None = None) -> Pattern:
    head = path.split("<", 1)[0]
    return Pattern(
        index=index,
        django_route=path.lstrip("/"),
        view=f"{app}.views.view_{index}",
        url_name=url_name,
        app=app,
        kind="path",
        pattern=path,
        exactness="exact",
        notes=(),
        head=head,
        shadowed_by=None,
    )


SHOP = [
    pattern(0, "/api/v1/orders/", "orders", url_name="orders"),
    pattern(1, "/api/v1/orders/<int:pk>/", "orders", url_name="order"),
    pattern(2, "/api/v1/orders/<int:pk>/pay/", "payments", url_name="order-pay"),
    pattern(3, "/api/v1/payments/", "payments", url_name="payments"),
    pattern(4, "/api/v1/payments/<int:pk>/", "payments", url_name="payment"),
    pattern(5, "/internal/sync/rows", "sync", url_name="rows"),
]


def test_per_pattern_names_each_route_after_its_url_name() -> None:
    table = build_table(SHOP, per="pattern")

    assert [(route.name, route.pattern) for route in table.routes] == [
        ("orders", "/api/v1/orders/"),
        ("order", "/api/v1/orders/<int:pk>/"),
        ("order-pay", "/api/v1/orders/<int:pk>/pay/"),
        ("payments", "/api/v1/payments/"),
        ("payment", "/api/v1/payments/<int:pk>/"),
    ]


def test_per_app_shares_no_prefix_two_apps_reach_into() -> None:
    table = build_table(SHOP, per="app")

    assert [(route.name, route.kind, route.pattern) for route in table.routes] == [
        ("orders", "path", "/api/v1/orders/"),
        ("order", "path", "/api/v1/orders/<int:pk>/"),
        ("order-pay", "path", "/api/v1/orders/<int:pk>/pay/"),
        ("payments", "prefix", "/api/v1/payments/"),
    ]
    assert [p.url_name for p in table.routes[-1].patterns] == ["payments", "payment"]


def test_two_patterns_the_proxy_reads_alike_share_a_route() -> None:
    first = pattern(0, "/items/<int:pk>/", "shop", url_name="item")
    second = pattern(1, "/items/<int:id>/", "shop", url_name="item-again")

    table = build_table([first, second], per="pattern")

    assert [route.name for route in table.routes] == ["item"]
    assert [outcome.outcome for outcome in table.outcomes] == [
        "shares route item: the proxy reads both alike"
    ]


def test_names_are_cut_to_the_proxys_limit_and_made_unique() -> None:
    long_name = "a" * 80
    patterns = [pattern(i, f"/p{i}/", "shop", url_name=long_name) for i in range(2)]

    names = [route.name for route in build_table(patterns, per="pattern").routes]

    assert names == ["a" * 63, "a" * 61 + "-2"]
