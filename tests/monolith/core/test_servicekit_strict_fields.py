"""strangler.servicekit.strict_fields: request fields read a JSON value only as the schema
types it, through the monolith's API; the 400 names the field and says what to send."""

from __future__ import annotations

import json

import pytest
from drf_spectacular.generators import SchemaGenerator

from monolith.accounts.models import Address
from monolith.catalog.models import Category, Product
from strangler.servicekit.strict_fields import (
    SEND_A_BOOLEAN,
    SEND_A_DECIMAL,
    SEND_A_STRING,
    SEND_AN_INTEGER,
)
from tests.monolith.factories import make_category, make_product

_ADDRESS = {
    "full_name": "Alice Example",
    "line1": "1 Market Street",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}


def _refused(response, field: str, message: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["fields"] == {field: [message]}


@pytest.mark.parametrize("value", [0, 1.5, True, ["x"], {"x": 1}])
def test_a_text_field_refuses_a_value_that_is_not_a_string(staff_api, value):
    response = staff_api.post("/api/v1/categories/", {"name": "Shoes", "description": value})

    _refused(response, "description", SEND_A_STRING)
    assert not Category.objects.filter(name="Shoes").exists()


def test_an_email_field_refuses_a_number_with_the_same_message(customer_api):
    _refused(customer_api.patch("/api/v1/me/", {"email": 0}), "email", SEND_A_STRING)


@pytest.mark.parametrize("value", [0, 1, "true", "false", "yes", ""])
def test_a_boolean_field_takes_only_true_or_false(customer_api, value):
    response = customer_api.post("/api/v1/me/addresses/", {**_ADDRESS, "is_default": value})

    _refused(response, "is_default", SEND_A_BOOLEAN)
    assert not Address.objects.exists()


@pytest.mark.parametrize("value", ["2", 2.0, "2.0", True, 2.5])
def test_an_integer_field_takes_only_a_json_integer(customer_api, value):
    product = make_product(stock=5)

    response = customer_api.post(
        "/api/v1/cart/lines/", {"product_id": product.pk, "quantity": value}
    )

    _refused(response, "quantity", SEND_AN_INTEGER)


def test_an_integer_field_still_takes_a_json_integer(customer_api):
    product = make_product(stock=5)

    response = customer_api.post("/api/v1/cart/lines/", {"product_id": product.pk, "quantity": 2})

    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("value", [str, float])
def test_a_key_relation_takes_only_a_json_integer(staff_api, value):
    parent = make_category()

    response = staff_api.post("/api/v1/categories/", {"name": "Boots", "parent": value(parent.pk)})

    _refused(response, "parent", SEND_AN_INTEGER)


def test_a_nullable_field_still_takes_null(staff_api):
    response = staff_api.post("/api/v1/categories/", {"name": "Boots", "parent": None})

    assert response.status_code == 201, response.json()
    assert response.json()["parent"] is None


@pytest.mark.parametrize(("price", "stored"), [(12.5, "12.50"), (12, "12.00"), ("12.5", "12.50")])
def test_a_price_is_a_decimal_string_or_a_json_number(staff_api, price, stored):
    response = staff_api.post("/api/v1/products/", {"name": "Kettle", "sku": "K", "price": price})

    assert response.status_code == 201, response.json()
    assert response.json()["price"] == stored


@pytest.mark.parametrize("price", [" 12.50", "1e2", "1_000", "\u0661\u0662", "+1", True, [1]])
def test_a_price_in_another_notation_is_refused(staff_api, price):
    response = staff_api.post("/api/v1/products/", {"name": "Kettle", "sku": "K", "price": price})

    _refused(response, "price", SEND_A_DECIMAL)
    assert not Product.objects.exists()


def test_a_price_with_too_many_places_as_a_number_is_refused_as_a_string_is(staff_api):
    response = staff_api.post("/api/v1/products/", {"name": "Kettle", "sku": "K", "price": 1.005})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["price"]


def test_the_schema_says_a_price_may_be_sent_as_a_number_and_is_answered_as_a_string():
    schemas = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]

    sent = schemas["ProductCreateRequest"]["properties"]["price"]
    answered = schemas["Product"]["properties"]["price"]
    assert [branch["type"] for branch in sent["anyOf"]] == ["string", "number"]
    assert sent["anyOf"][1]["minimum"] == 0
    assert answered["type"] == "string"


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
)
def test_a_form_body_is_refused_with_415_saying_to_send_json(staff_api, content_type):
    response = staff_api.generic(
        "POST", "/api/v1/categories/", "name=Shoes", content_type=content_type
    )

    assert response.status_code == 415
    assert response.json() == {
        "code": "unsupported_media_type",
        "message": "Send the body as JSON, with 'Content-Type: application/json'.",
    }
    assert not Category.objects.filter(name="Shoes").exists()


def test_a_json_body_is_still_read(staff_api):
    response = staff_api.generic(
        "POST",
        "/api/v1/categories/",
        json.dumps({"name": "Shoes"}),
        content_type="application/json",
    )

    assert response.status_code == 201
