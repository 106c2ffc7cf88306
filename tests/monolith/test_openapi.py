"""The OpenAPI schema generates cleanly and describes the endpoints that exist."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tests.openapi_rules import client_integers, unbounded_client_integers
from tests.strict_rules import loose_request_fields, request_serializers


def _api_routes(patterns=None, prefix: str = "") -> set[str]:
    """Every DRF route under /api/v1/, as the OpenAPI path spelling (``{pk}`` for params)."""
    import re

    routes: set[str] = set()
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        piece = str(entry.pattern)
        if isinstance(entry, URLResolver):
            routes |= _api_routes(entry.url_patterns, prefix + piece)
        elif isinstance(entry, URLPattern):
            full = "/" + prefix + piece
            if full.startswith("/api/v1/") and hasattr(entry.callback, "cls"):
                spelled = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", full.rstrip("$").lstrip("^"))
                # drf-spectacular names "pk" after the model's key (SCHEMA_COERCE_PATH_PK).
                routes.add(spelled.replace("{pk}", "{id}"))
    return routes


def test_the_schema_generates_and_validates_without_warnings(tmp_path) -> None:
    # --fail-on-warn turns every drf-spectacular warning (an untyped field, a view it cannot
    # introspect) into a failure.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )

    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3.")


def test_every_api_endpoint_is_in_the_schema_and_nothing_else() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)

    assert set(schema["paths"]) == _api_routes()


@pytest.mark.django_db
def test_the_schema_and_its_docs_page_are_served() -> None:
    client = APIClient()
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "Storefront monolith API"
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content


def test_every_integer_a_client_sends_is_bounded_by_a_column() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)

    assert len(list(client_integers(schema))) > 10  # the rule below checks something
    assert unbounded_client_integers(schema) == []


def test_every_field_a_client_writes_reads_json_types_as_the_schema_states_them() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)

    assert len(request_serializers(schema, "monolith")) > 10  # the rule below checks something
    assert loose_request_fields(schema, "monolith") == []


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/products/",
        "/api/v1/products/{id}/",
        "/api/v1/products/by-slug/{slug}/",
        "/api/v1/categories/",
        "/api/v1/categories/{id}/",
    ],
)
def test_a_public_read_says_credentials_are_optional(path: str) -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)

    assert {} in schema["paths"][path]["get"]["security"]


def test_an_operation_documents_the_errors_drf_answers_for_it() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]

    # A body to validate, credentials to require, a key in the path, a page past the end.
    assert {"400", "401", "404"} <= set(paths["/api/v1/me/addresses/{id}/"]["patch"]["responses"])
    assert {"401", "404"} <= set(paths["/api/v1/orders/"]["get"]["responses"])
    assert {"400", "401"} <= set(paths["/api/v1/me/"]["patch"]["responses"])
    # A body that is not JSON.
    assert "415" in paths["/api/v1/me/"]["patch"]["responses"]
    assert "415" not in paths["/api/v1/orders/"]["get"]["responses"]


@pytest.mark.parametrize("path", ["/api/v1/inventory/{product_id}/", "/api/v1/cart/lines/{id}/"])
def test_a_patch_that_needs_its_field_says_so(path: str) -> None:
    # Their views validate the whole body on PATCH, as on PUT.
    schema = SchemaGenerator().get_schema(request=None, public=True)
    body = schema["paths"][path]["patch"]["requestBody"]

    component = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]

    assert body["required"] is True
    assert not component.startswith("Patched")


def test_the_schema_offers_json_bodies_only() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)

    media_types = {
        media_type
        for item in schema["paths"].values()
        for operation in item.values()
        for media_type in operation.get("requestBody", {}).get("content", {})
    }

    assert media_types == {"application/json"}
