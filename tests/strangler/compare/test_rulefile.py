"""Rules and route names for a replay, read from a file shaped like the route table."""

from __future__ import annotations

import pytest

from strangler.compare import RuleRefused, RulesInvalid
from strangler.compare.captures import CaptureRecord
from strangler.compare.rulefile import load_rules

TABLE = """\
version: 1
upstreams: {monolith: {url: "http://127.0.0.1:8100"}}   # left alone
compare:
  ignore: ["**.served_at"]
routes:
  - name: products
    prefix: /api/v1/products/
    owner: catalog
  - name: product-detail
    path: /api/v1/products/<int:id>/
    compare: {critical: [price]}
  - name: product-search
    path: /api/v1/products/search/
"""


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "routes.yaml"
    path.write_text(TABLE)
    return path


@pytest.mark.parametrize(
    ("target", "route"),
    [
        ("/api/v1/products/search/?q=x", "product-search"),  # an exact path first
        ("/api/v1/products/42/", "product-detail"),  # then the most literal characters
        ("/api/v1/products/by-slug/kettle/", "products"),
        ("/api/v1/orders/7/", "/api/v1/orders/{id}/"),  # no route: the path's template
    ],
)
def test_a_request_takes_the_most_specific_route_of_the_file(table, target, route):
    _, namer = load_rules(table)

    assert namer.name(CaptureRecord("GET", target)) == route


def test_a_routes_rules_extend_the_defaults(table):
    book, _ = load_rules(table)

    detail = book.for_route("product-detail")
    assert detail.node("price").critical
    assert detail.node("meta.served_at").ignored
    assert not book.for_route("products").node("price").critical


def test_an_invalid_rule_names_the_file_route_and_field(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("routes:\n  - {name: p, prefix: /p/, compare: {ignore: [price, '[']}}\n")

    with pytest.raises(RulesInvalid) as raised:
        load_rules(path)

    assert raised.value.field == f"{path}: routes[0] (p).compare.ignore[1]"


def test_a_refused_rule_names_the_file(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(
        "routes:\n  - {name: p, prefix: /p/, compare: {critical: [price], ignore: [price]}}\n"
    )

    with pytest.raises(RuleRefused, match=rf"^{path}: routes\.p\.ignore\[0\]: refused"):
        load_rules(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("routes: [{prefix: /p/}]\n", "routes[0].name: every route needs a name"),
        ("routes: [{name: p}]\n", "routes[0]: give exactly one of 'path'"),
        ("routes: [{name: p, path: '/p/<nope:x>/'}]\n", "unknown converter 'nope'"),
        ("- just a list\n", "must be a mapping"),
        ("compare: {ignore: [\n", "not valid YAML"),
    ],
)
def test_a_malformed_file_is_refused_saying_what_to_fix(tmp_path, text, message):
    path = tmp_path / "rules.yaml"
    path.write_text(text)

    with pytest.raises(RulesInvalid, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_rules(path)
