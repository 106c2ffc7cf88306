"""The catalog service reads a request's JSON values only as its schema types them, with the
monolith's messages (strangler.servicekit.strict_fields)."""

from __future__ import annotations

import pytest

from extracted.catalog.catalog.models import Category, Product
from strangler.servicekit.strict_fields import (
    SEND_A_BOOLEAN,
    SEND_A_DECIMAL,
    SEND_A_STRING,
    SEND_AN_INTEGER,
)
from tests.extracted.catalog.factories import make_category

_PRODUCT = {"name": "Kettle", "sku": "K", "price": "12.50"}


def _refused(response, field: str, message: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["fields"] == {field: [message]}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("description", 0, SEND_A_STRING),
        ("name", ["Kettle"], SEND_A_STRING),
        ("is_active", 0, SEND_A_BOOLEAN),
        ("is_active", "false", SEND_A_BOOLEAN),
        ("stock", "2", SEND_AN_INTEGER),
        ("stock", 2.0, SEND_AN_INTEGER),
        ("category", "1", SEND_AN_INTEGER),
        ("price", "1e2", SEND_A_DECIMAL),
        ("price", " 12.50", SEND_A_DECIMAL),
    ],
)
def test_a_product_field_refuses_a_value_of_another_json_type(staff_api, field, value, message):
    _refused(staff_api.post("/api/v1/products/", {**_PRODUCT, field: value}), field, message)
    assert not Product.objects.exists()


def test_a_category_parent_takes_only_a_json_integer(staff_api):
    parent = make_category()

    response = staff_api.post("/api/v1/categories/", {"name": "Boots", "parent": str(parent.pk)})

    _refused(response, "parent", SEND_AN_INTEGER)
    assert not Category.objects.filter(name="Boots").exists()


def test_a_price_sent_as_a_json_number_is_taken(staff_api):
    response = staff_api.post("/api/v1/products/", {**_PRODUCT, "price": 12.5})

    assert response.status_code == 201, response.json()
    assert response.json()["price"] == "12.50"


def test_a_form_body_is_refused_with_415_saying_to_send_json(staff_api):
    response = staff_api.generic(
        "POST",
        "/api/v1/categories/",
        "name=Boots",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 415
    assert response.json() == {
        "code": "unsupported_media_type",
        "message": "Send the body as JSON, with 'Content-Type: application/json'.",
    }
