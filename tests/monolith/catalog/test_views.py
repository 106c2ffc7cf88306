"""The storefront pages: the product list at / and a product at /products/<slug>/."""

from __future__ import annotations

import pytest
from django.urls import reverse

from monolith.catalog.views import PRODUCTS_PER_PAGE
from tests.monolith.factories import make_category, make_product


@pytest.fixture
def browser(client, db):
    return client


def _list(browser, **params):
    response = browser.get(reverse("catalog:product-list"), params)
    assert response.status_code == 200
    return response


def _shown(response):
    return [product.name for product in response.context["page_obj"]]


def test_the_list_shows_active_products_with_price_and_availability(browser):
    make_product(name="Blue Kettle", price="12.50", stock=3)
    make_product(name="Red Toaster", price="30.00", stock=0)

    page = _list(browser).content.decode()

    assert "Blue Kettle" in page
    assert "12.50 EUR" in page
    assert "In stock" in page
    assert "Out of stock" in page


def test_the_list_hides_inactive_products(browser):
    make_product(name="Retired Kettle", is_active=False)

    assert "Retired Kettle" not in _list(browser).content.decode()


def test_the_list_links_each_product_to_its_page(browser):
    make_product(slug="blue-kettle")

    assert 'href="/products/blue-kettle/"' in _list(browser).content.decode()


def test_searching_finds_products_by_name(browser):
    make_product(name="Blue Kettle")
    make_product(name="Red Toaster")

    assert _shown(_list(browser, q="kettle")) == ["Blue Kettle"]


def test_searching_finds_products_by_sku(browser):
    make_product(name="Blue Kettle", sku="KT-42")
    make_product(name="Red Toaster", sku="TS-1")

    assert _shown(_list(browser, q="kt-42")) == ["Blue Kettle"]


def test_a_category_shows_its_products_and_those_below_it(browser):
    clothing = make_category(name="Clothing")
    make_product(name="Coat", category=clothing)
    make_product(name="Polo", category=make_category(name="Shirts", parent=clothing))
    make_product(name="Kettle", category=make_category(name="Kitchen"))

    assert _shown(_list(browser, category=clothing.pk)) == ["Coat", "Polo"]


def test_the_sidebar_shows_the_category_tree(browser):
    clothing = make_category(name="Clothing")
    make_category(name="Shirts", parent=clothing)

    page = _list(browser).content.decode()

    assert page.index("Clothing") < page.index("Shirts")
    assert f"?category={clothing.pk}" in page


def test_the_current_category_is_highlighted(browser):
    shirts = make_category(name="Shirts")

    page = _list(browser, category=shirts.pk).content.decode()

    assert 'class="current" aria-current="page">Shirts</a>' in page


def test_a_price_range_keeps_products_within_it(browser):
    make_product(name="Cheap", price="5.00")
    make_product(name="Fair", price="15.00")
    make_product(name="Dear", price="50.00")

    assert _shown(_list(browser, min_price="10", max_price="20")) == ["Fair"]


def test_products_can_be_sorted_by_price(browser):
    make_product(name="Dear", price="50.00")
    make_product(name="Cheap", price="5.00")

    assert _shown(_list(browser, ordering="price")) == ["Cheap", "Dear"]


def test_a_price_that_is_not_a_number_is_reported_and_ignored(browser):
    make_product(name="Kettle")

    response = _list(browser, min_price="cheap")

    assert _shown(response) == ["Kettle"]
    assert "min_price" in response.content.decode()


def test_a_search_with_no_match_says_so(browser):
    make_product(name="Kettle")

    assert "No products match." in _list(browser, q="piano").content.decode()


def test_the_list_is_paginated_keeping_the_filters(browser):
    for _ in range(PRODUCTS_PER_PAGE + 1):
        make_product(name="Kettle")

    response = _list(browser, q="kettle")

    assert len(_shown(response)) == PRODUCTS_PER_PAGE
    assert 'href="?q=kettle&amp;page=2"' in response.content.decode()
    assert len(_shown(_list(browser, q="kettle", page=2))) == 1


def test_the_product_page_shows_the_product(browser):
    product = make_product(
        name="Blue Kettle", sku="KT-42", price="12.50", stock=3, description="Boils water."
    )

    page = browser.get(reverse("catalog:product-detail", kwargs={"slug": product.slug}))

    text = page.content.decode()
    assert page.status_code == 200
    for expected in ["Blue Kettle", "KT-42", "12.50 EUR", "Boils water.", "3 available"]:
        assert expected in text


def test_the_product_page_shows_the_category_breadcrumb(browser):
    clothing = make_category(name="Clothing")
    shirts = make_category(name="Shirts", parent=clothing)
    product = make_product(category=shirts)

    text = browser.get(f"/products/{product.slug}/").content.decode()

    assert text.index("Clothing") < text.index("Shirts")
    assert f"?category={shirts.pk}" in text


def test_the_product_page_posts_to_the_cart(browser):
    product = make_product(stock=3)

    text = browser.get(f"/products/{product.slug}/").content.decode()

    assert f'action="{reverse("cart:add")}"' in text
    assert f'name="product_id" value="{product.pk}"' in text
    assert 'name="quantity"' in text
    assert "Add to cart" in text


def test_an_out_of_stock_product_cannot_be_added_to_the_cart(browser):
    product = make_product(stock=0)

    text = browser.get(f"/products/{product.slug}/").content.decode()

    assert "Out of stock" in text
    assert '<button type="submit" disabled>Add to cart</button>' in text


def test_an_inactive_product_page_is_not_found(browser):
    product = make_product(is_active=False)

    assert browser.get(f"/products/{product.slug}/").status_code == 404


def test_an_unknown_product_page_is_not_found(browser):
    assert browser.get("/products/no-such-thing/").status_code == 404


def test_the_list_page_takes_the_same_few_queries_however_many_products(
    browser, django_assert_max_num_queries
):
    clothing = make_category()
    for _ in range(PRODUCTS_PER_PAGE):
        make_product(category=make_category(parent=clothing))

    # The category, the tree for filtering, the tree for the sidebar, count, page.
    with django_assert_max_num_queries(5):
        _list(browser, category=clothing.pk)
