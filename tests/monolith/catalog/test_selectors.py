"""Catalog reads only the monolith has: the category tree and a category's path (its HTML
pages use them). The reads both sides share are tests/catalog_contract."""

from __future__ import annotations

from monolith.catalog.selectors import category_path, category_tree
from tests.monolith.factories import make_category


def test_the_category_tree_nests_children_under_their_parents(db):
    clothing = make_category(name="Clothing")
    make_category(name="Shirts", parent=clothing)
    make_category(name="Coats", parent=clothing)
    make_category(name="Books")

    tree = category_tree()

    assert [node.category.name for node in tree] == ["Books", "Clothing"]
    assert [node.category.name for node in tree[1].children] == ["Coats", "Shirts"]


def test_a_category_path_runs_from_the_root_to_the_category(db):
    top = make_category()
    middle = make_category(parent=top)
    bottom = make_category(parent=middle)

    assert category_path(category=bottom) == [top, middle, bottom]
