"""The OpenAPI schema generates cleanly and describes the endpoints that exist."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient


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
