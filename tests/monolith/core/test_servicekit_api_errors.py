"""strangler.servicekit.api_errors: one error shape, keyed by each service's error root.

Run with the monolith's settings (DRF needs configured settings); the API suites of both
services check the same handler through their endpoints.
"""

from __future__ import annotations

from django.http import Http404
from rest_framework import exceptions

from monolith.core.errors import OutOfStock, StorefrontError
from strangler.servicekit.api_errors import (
    ServiceError,
    api_exception_handler_for,
    error_body,
    server_error_body,
    token_auth_messages,
)


class _OtherServiceError(ServiceError):
    """The root of another service's errors: not the storefront's to render."""


_handler = api_exception_handler_for(StorefrontError, messages={"not_authenticated": "Log in."})


def test_an_error_body_leaves_out_empty_extras():
    assert error_body("conflict", "No.", details={}, fields=None) == {
        "code": "conflict",
        "message": "No.",
    }
    assert error_body("conflict", "No.", details={"id": 1})["details"] == {"id": 1}


def test_a_domain_error_under_the_root_renders_its_status_code_and_details():
    response = _handler(OutOfStock("None left.", product_id=7), {})

    assert response is not None
    assert response.status_code == 409
    assert response.data == {
        "code": "out_of_stock",
        "message": "None left.",
        "details": {"product_id": 7},
    }


def test_an_error_outside_the_root_is_not_rendered(db):
    assert _handler(_OtherServiceError("Not ours."), {}) is None


def test_a_raisers_code_overrides_the_default():
    error = StorefrontError("Busy.", code="category_in_use", product_count=1)

    assert (error.code, error.http_status, error.details) == (
        "category_in_use",
        400,
        {"product_count": 1},
    )


def test_the_services_messages_word_drfs_errors(db):
    response = _handler(exceptions.NotAuthenticated(), {})

    assert response is not None
    assert response.data == {"code": "not_authenticated", "message": "Log in."}


def test_a_not_found_keeps_the_detail_it_was_raised_with(db):
    raised = _handler(exceptions.NotFound("No product 9."), {})
    django = _handler(Http404(), {})

    assert raised is not None
    assert django is not None
    assert raised.data == {"code": "not_found", "message": "No product 9."}
    assert django.data == {"code": "not_found", "message": "Not found."}


def test_validation_errors_are_flattened_into_fields(db):
    response = _handler(
        exceptions.ValidationError({"price": ["Too low."], "address": {"city": "Required."}}), {}
    )

    assert response is not None
    assert response.status_code == 400
    assert response.data["code"] == "validation_error"
    assert response.data["fields"] == {"price": ["Too low."], "address": {"city": ["Required."]}}


def test_a_server_error_points_at_the_request_id():
    assert server_error_body()["code"] == "server_error"
    assert "X-Request-ID" in server_error_body()["message"]


def test_token_auth_messages_name_the_token_endpoint():
    messages = token_auth_messages(obtain_path="/api/v1/auth/token/")

    assert messages["not_authenticated"] == (
        "Authentication credentials were not provided. Send "
        "'Authorization: Token <token>' (POST /api/v1/auth/token/ to get one) or log in."
    )
    assert messages["authentication_failed"] == (
        "The credentials are invalid. Get a new token with POST /api/v1/auth/token/."
    )
