"""The service's OpenAPI schema generates cleanly, describes what exists, and is served."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tests.extracted.catalog.contract import CATALOG_PATHS
from tests.openapi_rules import client_integers, unbounded_client_integers
from tests.strict_rules import loose_request_fields, request_serializers


def test_the_schema_generates_and_validates_without_warnings(tmp_path) -> None:
    # --fail-on-warn turns every drf-spectacular warning (an untyped field, an authentication
    # class it cannot describe) into a failure.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )

    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3.")


def test_the_schema_holds_the_catalog_paths_and_nothing_else() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)

    assert set(schema["paths"]) == CATALOG_PATHS


def test_the_schema_describes_the_proxys_signed_identity_and_no_other_credential() -> None:
    # The service reads neither the monolith's token nor its session cookie.
    schema = SchemaGenerator().get_schema(request=None, public=True)

    assert schema["components"]["securitySchemes"] == {
        "proxyIdentity": {
            "type": "apiKey",
            "in": "header",
            "name": "X-Strangler-Identity",
            "description": schema["components"]["securitySchemes"]["proxyIdentity"]["description"],
        }
    }
    assert schema["paths"]["/api/v1/products/"]["post"]["security"] == [{"proxyIdentity": []}]


@pytest.mark.parametrize(
    "path", ["/api/v1/products/", "/api/v1/products/{id}/", "/api/v1/categories/"]
)
def test_a_public_read_needs_no_identity_and_is_never_refused_for_one(path: str) -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    read = schema["paths"][path]["get"]

    assert read["security"] == [{"proxyIdentity": []}, {}]
    assert "401" not in read["responses"]


@pytest.mark.django_db
def test_the_schema_and_its_docs_page_are_served() -> None:
    client = APIClient()
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "Catalog service API"
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content


def test_every_integer_a_client_sends_is_bounded_by_a_column() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)

    assert len(list(client_integers(schema))) > 5  # the rule below checks something
    assert unbounded_client_integers(schema) == []


def test_every_field_a_client_writes_reads_json_types_as_the_schema_states_them() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)

    assert len(request_serializers(schema, "extracted")) > 3  # the rule below checks something
    assert loose_request_fields(schema, "extracted") == []


def test_a_write_documents_the_415_of_a_body_that_is_not_json() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)

    assert "415" in schema["paths"]["/api/v1/products/"]["post"]["responses"]
    assert "415" not in schema["paths"]["/api/v1/products/"]["get"]["responses"]
