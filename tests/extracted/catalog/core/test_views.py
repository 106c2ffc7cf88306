"""Errors outside the API views are JSON too, with the monolith's bodies, and every answer
carries its request id."""

from __future__ import annotations

import pytest
from django.test import Client


def test_an_unknown_api_path_answers_the_monoliths_json_404(db) -> None:
    response = Client().get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response.json() == {
        "code": "not_found",
        "message": "No API endpoint at /api/v1/no-such-thing/; see /api/schema/.",
    }


def test_a_path_outside_the_api_answers_json_404_too(db) -> None:
    response = Client().get("/cart/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.urls("tests.extracted.catalog.core.failing_urls")
def test_a_failing_view_answers_the_monoliths_json_500(db) -> None:
    response = Client(raise_request_exception=False).get("/api/v1/fail/")

    assert response.status_code == 500
    assert response.json() == {
        "code": "server_error",
        "message": "The server failed to answer; the request id in the "
        "X-Request-ID header finds the cause in the logs.",
    }
    assert response["X-Request-ID"]


def test_a_sane_request_id_comes_back(db) -> None:
    response = Client().get("/api/v1/products/", HTTP_X_REQUEST_ID="trace-catalog-01")

    assert response["X-Request-ID"] == "trace-catalog-01"


def test_a_request_without_an_id_gets_one(db) -> None:
    first = Client().get("/healthz")["X-Request-ID"]
    second = Client().get("/healthz")["X-Request-ID"]

    assert first
    assert first != second
