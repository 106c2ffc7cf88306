"""JSON bodies compared as trees, under a route's rules."""

from __future__ import annotations

from strangler.compare import DiffKind
from strangler.compare.tree import MAX_DIFFERENCES, diff_json

from .factories import rules


def _diffs(base, candidate, data=None):
    found, _ = diff_json(base, candidate, rules(data))
    return [(d.path, d.key, d.kind) for d in found]


def test_member_order_never_matters():
    base = {"id": 1, "meta": {"a": 1, "b": [{"x": 1, "y": 2}]}, "name": "Mug"}
    candidate = {"name": "Mug", "meta": {"b": [{"y": 2, "x": 1}], "a": 1}, "id": 1}
    assert _diffs(base, candidate) == []


def test_each_kind_is_reported_at_its_indexed_path_and_key():
    base = {
        "results": [{"id": 1, "price": "1.00"}, {"id": 2, "price": "2.00", "tax": 1}],
        "count": 2,
        "tags": ["a", "b"],
        "sizes": [1, 2, 3],
    }
    candidate = {
        "results": [{"id": 1, "price": "1.00"}, {"id": 2, "price": 2.0, "promo": True}],
        "count": 3,
        "tags": ["b", "a"],
        "sizes": [1, 2],
    }
    assert sorted(_diffs(base, candidate)) == sorted(
        [
            ("results[1].price", "results[].price", DiffKind.TYPE),
            ("results[1].tax", "results[].tax", DiffKind.MISSING),
            ("results[1].promo", "results[].promo", DiffKind.EXTRA),
            ("count", "count", DiffKind.VALUE),
            ("tags", "tags", DiffKind.ORDER),
            ("sizes", "sizes", DiffKind.LENGTH),
        ]
    )


def test_a_difference_carries_both_values_for_display():
    found, _ = diff_json({"a": {"b": "x"}}, {"a": {}}, rules())
    assert (found[0].base, found[0].candidate) == ('"x"', None)


def test_true_is_not_one_but_one_is_one_point_zero():
    assert _diffs({"a": True, "b": 1}, {"a": 1, "b": 1.0}) == [("a", "a", DiffKind.TYPE)]


def test_an_inserted_item_is_one_length_difference_not_a_shifted_list():
    base = {"items": [{"id": 1}, {"id": 2}, {"id": 3}]}
    candidate = {"items": [{"id": 0}, {"id": 1}, {"id": 2}, {"id": 3}]}
    found, _ = diff_json(base, candidate, rules())
    assert [(d.path, d.kind) for d in found] == [("items", DiffKind.LENGTH)]
    assert "only in the candidate: [0]" in found[0].detail


def test_ignore_frees_values_in_a_nested_subtree_but_not_their_shape():
    base = {"results": [{"id": 1, "audit": {"at": "t1", "by": "ann"}}]}
    candidate = {"results": [{"id": 1, "audit": {"at": "t2", "who": "bob"}}]}
    assert sorted(_diffs(base, candidate, {"ignore": ["results[].audit"]})) == [
        ("results[0].audit.by", "results[].audit.by", DiffKind.MISSING),
        ("results[0].audit.who", "results[].audit.who", DiffKind.EXTRA),
    ]


def test_ignore_never_hides_a_type_change():
    base = {"meta": {"generated_at": "2024-01-01"}}
    assert _diffs(base, {"meta": {"generated_at": None}}, {"ignore": ["meta.generated_at"]}) == [
        ("meta.generated_at", "meta.generated_at", DiffKind.TYPE)
    ]


def test_ignore_with_double_star_matches_any_depth_and_single_star_one_segment():
    base = {"a": {"etag": 1, "b": {"etag": 1}}, "c": {"d": 1, "e": {"f": 1}}}
    candidate = {"a": {"etag": 2, "b": {"etag": 2}}, "c": {"d": 2, "e": {"f": 2}}}
    assert _diffs(base, candidate, {"ignore": ["**.etag", "c.*"]}) == []
    assert _diffs(base, candidate, {"ignore": ["etag"]}) == [
        ("a.etag", "a.etag", DiffKind.VALUE),
        ("a.b.etag", "a.b.etag", DiffKind.VALUE),
        ("c.d", "c.d", DiffKind.VALUE),
        ("c.e.f", "c.e.f", DiffKind.VALUE),
    ]


def test_a_keyed_list_compares_items_by_key_whatever_their_order():
    base = {
        "order": {"lines": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}, {"sku": "C", "qty": 1}]}
    }
    candidate = {
        "order": {"lines": [{"sku": "D", "qty": 1}, {"sku": "B", "qty": 3}, {"sku": "A", "qty": 1}]}
    }
    data = {"unordered": [{"path": "order.lines", "key": "sku"}]}
    assert sorted(_diffs(base, candidate, data)) == [
        ('order.lines[sku="B"].qty', "order.lines[].qty", DiffKind.VALUE),
        ('order.lines[sku="C"]', "order.lines[]", DiffKind.MISSING),
        ('order.lines[sku="D"]', "order.lines[]", DiffKind.EXTRA),
    ]


def test_a_keyed_list_with_a_repeated_key_falls_back_to_positions():
    base = {"lines": [{"sku": "A", "qty": 1}, {"sku": "A", "qty": 2}]}
    candidate = {"lines": [{"sku": "A", "qty": 2}, {"sku": "A", "qty": 1}]}
    data = {"unordered": [{"path": "lines", "key": "sku"}]}
    assert _diffs(base, candidate, data) == [("lines", "lines", DiffKind.ORDER)]


def test_an_unkeyed_set_reports_items_only_on_one_side():
    data = {"unordered": [{"path": "tags"}]}
    assert _diffs({"tags": ["a", "b", "b"]}, {"tags": ["b", "c", "a"]}, data) == [
        ("tags[1]", "tags[]", DiffKind.MISSING),
        ("tags[1]", "tags[]", DiffKind.EXTRA),
    ]


def test_numeric_tolerance_on_a_nested_path():
    data = {"tolerance": [{"paths": ["results[].rating"], "absolute": 0.05}]}
    base = {"results": [{"rating": 4.50, "weight": 1.0}]}
    assert _diffs(base, {"results": [{"rating": 4.54, "weight": 1.0}]}, data) == []
    assert _diffs(base, {"results": [{"rating": 4.60, "weight": 1.0}]}, data) == [
        ("results[0].rating", "results[].rating", DiffKind.VALUE)
    ]
    assert _diffs(base, {"results": [{"rating": 4.50, "weight": 1.01}]}, data) == [
        ("results[0].weight", "results[].weight", DiffKind.VALUE)
    ]


def test_relative_tolerance_scales_with_the_value():
    data = {"tolerance": [{"paths": ["total"], "relative": 0.001}]}
    assert _diffs({"total": 10_000}, {"total": 10_009}, data) == []
    assert _diffs({"total": 10}, {"total": 10.5}, data) == [("total", "total", DiffKind.VALUE)]


def test_decimal_strings_compare_as_decimals_when_the_rule_says_so():
    base = {"results": [{"price": "12.50"}]}
    candidate = {"results": [{"price": "12.5"}]}
    assert _diffs(base, candidate) == [("results[0].price", "results[].price", DiffKind.VALUE)]
    data = {"tolerance": [{"paths": ["**.price"], "decimal": True}]}
    assert _diffs(base, candidate, data) == []
    assert _diffs(base, {"results": [{"price": "12.51"}]}, data) == [
        ("results[0].price", "results[].price", DiffKind.VALUE)
    ]


def test_a_tolerance_never_bridges_a_string_and_a_number():
    data = {"tolerance": [{"paths": ["price"], "absolute": 1, "decimal": True}]}
    found, _ = diff_json({"price": "12.50"}, {"price": 12.5}, rules(data))
    assert [(d.kind, d.detail) for d in found] == [
        (DiffKind.TYPE, "tolerance not applied: string vs number")
    ]


def test_a_critical_field_is_marked_and_compared_exactly_under_generic_rules():
    data = {
        "critical": ["results[].price"],
        "normalise": [{"pattern": "[0-9]", "replace": "#"}],
    }
    base = {"results": [{"price": "12.50", "name": "Mug 1"}]}
    candidate = {"results": [{"price": "13.50", "name": "Mug 2"}]}
    found, _ = diff_json(base, candidate, rules(data))
    assert [(d.key, d.critical) for d in found] == [("results[].price", True)]


def test_a_normaliser_masks_volatile_parts_of_string_values():
    data = {"normalise": [{"pattern": "req-[0-9a-f]+", "replace": "req-*", "paths": ["**.trace"]}]}
    assert _diffs({"a": {"trace": "req-1f x"}}, {"a": {"trace": "req-2e x"}}, data) == []
    assert _diffs({"a": {"trace": "req-1f x"}}, {"a": {"trace": "req-2e y"}}, data) == [
        ("a.trace", "a.trace", DiffKind.VALUE)
    ]


def test_a_whole_document_of_differences_is_cut_at_the_bound():
    base = {f"k{i}": i for i in range(MAX_DIFFERENCES + 50)}
    candidate = {f"k{i}": -i - 1 for i in range(MAX_DIFFERENCES + 50)}
    found, truncated = diff_json(base, candidate, rules())
    assert len(found) == MAX_DIFFERENCES
    assert truncated
