"""Catalog reads on both sides: category cycles and descendants, what shoppers see."""

from __future__ import annotations


def test_descendants_include_the_category_itself_and_every_level_below(side, db):
    top = side.make_category()
    middle = side.make_category(parent=top)
    bottom = side.make_category(parent=middle)
    side.make_category()

    assert side.selectors.category_descendant_ids(category_ids=[top.pk]) == {
        top.pk,
        middle.pk,
        bottom.pk,
    }


def test_a_parent_below_the_category_would_create_a_cycle(side, db):
    top = side.make_category()
    below = side.make_category(parent=side.make_category(parent=top))

    assert side.selectors.category_parent_creates_cycle(category=top, parent=below)


def test_a_parent_beside_the_category_is_no_cycle(side, db):
    top = side.make_category()

    assert not side.selectors.category_parent_creates_cycle(
        category=side.make_category(parent=top), parent=top
    )


def test_visible_products_leave_out_inactive_ones(side, db):
    side.make_product(name="Live")
    side.make_product(name="Retired", is_active=False)

    assert [p.name for p in side.selectors.product_list_visible()] == ["Live"]
    assert [p.name for p in side.selectors.product_list_visible(include_inactive=True)] == [
        "Live",
        "Retired",
    ]
