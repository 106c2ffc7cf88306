"""Catalog reads: the category tree and what shoppers see."""

from __future__ import annotations

from monolith.catalog.selectors import (
    category_descendant_ids,
    category_parent_creates_cycle,
    category_path,
    category_tree,
    product_list_visible,
)
from tests.monolith.factories import make_category, make_product


def test_the_category_tree_nests_children_under_their_parents(db):
    clothing = make_category(name="Clothing")
    make_category(name="Shirts", parent=clothing)
    make_category(name="Coats", parent=clothing)
    make_category(name="Books")

    tree = category_tree()

    assert [node.category.name for node in tree] == ["Books", "Clothing"]
    assert [node.category.name for node in tree[1].children] == ["Coats", "Shirts"]


def test_descendants_include_the_category_itself_and_every_level_below(db):
    top = make_category()
    middle = make_category(parent=top)
    bottom = make_category(parent=middle)
    make_category()

    assert category_descendant_ids(category_ids=[top.pk]) == {top.pk, middle.pk, bottom.pk}


def test_a_category_path_runs_from_the_root_to_the_category(db):
    top = make_category()
    middle = make_category(parent=top)
    bottom = make_category(parent=middle)

    assert category_path(category=bottom) == [top, middle, bottom]


def test_a_parent_below_the_category_would_create_a_cycle(db):
    top = make_category()
    below = make_category(parent=make_category(parent=top))

    assert category_parent_creates_cycle(category=top, parent=below)


def test_a_parent_beside_the_category_is_no_cycle(db):
    top = make_category()

    assert not category_parent_creates_cycle(category=make_category(parent=top), parent=top)


def test_visible_products_leave_out_inactive_ones(db):
    make_product(name="Live")
    make_product(name="Retired", is_active=False)

    assert [p.name for p in product_list_visible()] == ["Live"]
