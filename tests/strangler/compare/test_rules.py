"""Rule sets: parsed from YAML mappings with errors naming the field; dangerous rules refused."""

from __future__ import annotations

import pytest
from ruamel.yaml import YAML

from strangler.compare import RuleBook, RuleRefused, RulesInvalid, parse_rules

from .factories import rules


@pytest.mark.parametrize(
    ("data", "field", "problem"),
    [
        ({"ignore": ["ok", "price_*"]}, "compare.ignore[1]", "whole segment"),
        ({"tolerance": [{"paths": ["a"]}]}, "compare.tolerance[0]", "sets no tolerance"),
        ({"tolerance": [{"paths": ["a"], "absolute": -1}]}, "compare.tolerance[0].absolute", ""),
        ({"normalise": [{"pattern": "\\d*"}]}, "compare.normalise[0].pattern", "empty string"),
        ({"text": {"mask": ["("]}}, "compare.text.mask[0]", "regular expression"),
        ({"headers": {"compare": ["Content Type"]}}, "compare.headers.compare[0]", "header"),
        ({"unordered": [{"path": "x", "keyy": "id"}]}, "compare.unordered[0].keyy", "Extra"),
    ],
)
def test_a_malformed_rule_names_its_field(data, field, problem):
    with pytest.raises(RulesInvalid) as caught:
        parse_rules(data)
    assert caught.value.field == field
    assert problem in caught.value.message


def test_rules_parse_from_a_yaml_mapping():
    parsed = parse_rules(
        {
            "ignore": ["meta.generated_at"],
            "critical": ["results[].price"],
            "unordered": [{"path": "results", "key": "id"}],
            "tolerance": [{"paths": ["**.rating"], "absolute": 0.01}],
            "headers": {"compare": ["Content-Type", "X-Total-Count"]},
        }
    )
    assert parsed.headers.compare == ["content-type", "x-total-count"]
    assert parsed.unordered[0].key == "id"


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        (
            {"ignore": ["results"], "critical": ["results[].price"]},
            "routes.catalog-products.ignore[0]",
            "critical field 'results[].price'",
        ),
        (
            {"ignore": ["**.price"], "critical": ["results[].price"]},
            "routes.catalog-products.ignore[0]",
            "critical field",
        ),
        (
            {"ignore": ["order.updated_at"], "critical": ["order"]},
            "routes.catalog-products.ignore[0]",
            "critical field 'order'",
        ),
        (
            {
                "tolerance": [{"paths": ["**.price"], "absolute": 0.01}],
                "critical": ["total", "x[].price"],
            },
            "routes.catalog-products.tolerance[0].paths[0]",
            "'x[].price'",
        ),
        (
            {"normalise": [{"pattern": "\\d+", "paths": ["total"]}], "critical": ["total"]},
            "routes.catalog-products.normalise[0].paths[0]",
            "rewrite the critical field",
        ),
        (
            {"unordered": [{"path": "results", "key": "id"}, {"path": "*", "key": "sku"}]},
            "routes.catalog-products.unordered[1]",
            "another key",
        ),
        (
            {"headers": {"compare": ["Date"], "ignore": ["date"]}},
            "routes.catalog-products.headers",
            "both compared and ignored",
        ),
    ],
)
def test_a_rule_that_would_hide_a_critical_difference_is_refused_with_its_reason(
    data, field, reason
):
    with pytest.raises(RuleRefused) as caught:
        rules(data)
    assert caught.value.field == field
    assert reason in caught.value.reason


def test_a_default_rule_is_refused_against_a_route_s_critical_field():
    defaults = parse_rules({"ignore": ["**.updated_at"]})
    route = parse_rules({"critical": ["results[].updated_at"]})
    with pytest.raises(RuleRefused) as caught:
        RuleBook(defaults, {"r": route})
    assert caught.value.field == "defaults.ignore[0]"


@pytest.mark.parametrize(
    "data",
    [
        # A generic rule starting with '**' next to a critical scalar elsewhere.
        {"tolerance": [{"paths": ["**.rating"], "absolute": 0.1}], "critical": ["total"]},
        # Exact decimal comparison is allowed on a critical field.
        {"tolerance": [{"paths": ["**.price"], "decimal": True}], "critical": ["results[].price"]},
        # A normaliser without paths skips critical fields rather than being refused.
        {"normalise": [{"pattern": "\\d+"}], "critical": ["total"]},
        {"ignore": ["meta"], "critical": ["results[].price"]},
    ],
)
def test_rules_that_cannot_touch_a_critical_field_are_accepted(data):
    rules(data)


def test_rules_written_under_a_route_s_compare_key_in_yaml_parse():
    text = """
    compare:
      ignore: [meta.generated_at]
      critical: ["results[].price"]
      tolerance:
        - {paths: ["results[].price"], decimal: true}
      headers: {compare: all, ignore: [X-Frame-Options]}
    """
    data = YAML(typ="safe").load(text)
    parsed = parse_rules(data["compare"], source="routes[0].compare")
    assert parsed.headers.compare == "all"
    assert parsed.headers.ignore == ["x-frame-options"]
    with pytest.raises(RulesInvalid, match=r"^routes\[0\]\.compare\.ignore\[0\]: "):
        parse_rules({"ignore": ["a..b"]}, source="routes[0].compare")
