"""Rules every service's OpenAPI schema keeps, checked by each service's suite on its own schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["client_integers", "unbounded_client_integers"]

INT64_MAX = 2**63 - 1
# Read by the paginator, never bound into SQL: a page past the end is a 404, a page size
# above the cap counts as the cap.
_PAGING_PARAMETERS = frozenset({"page", "page_size"})


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = schema
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _integers(schema: dict[str, Any], node: dict[str, Any], where: str) -> Iterator[tuple]:
    node = _resolve(schema, node)
    for part in ("allOf", "oneOf", "anyOf"):
        for index, sub in enumerate(node.get(part, [])):
            yield from _integers(schema, sub, f"{where}/{part}{index}")
    if node.get("type") == "integer":
        yield where, node
    for name, sub in node.get("properties", {}).items():
        if not sub.get("readOnly"):
            yield from _integers(schema, sub, f"{where}.{name}")
    if "items" in node:
        yield from _integers(schema, node["items"], f"{where}[]")


def client_integers(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every integer a client sends: in a path, a query filter or a request body."""
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            name = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                if parameter["name"] not in _PAGING_PARAMETERS:
                    where = f"{name} {parameter['in']} {parameter['name']}"
                    yield from _integers(schema, parameter["schema"], where)
            for media_type, body in operation.get("requestBody", {}).get("content", {}).items():
                yield from _integers(schema, body["schema"], f"{name} body ({media_type})")


def unbounded_client_integers(schema: dict[str, Any]) -> list[str]:
    """Where a client integer lacks a minimum or maximum a 64-bit column holds."""
    return [
        where
        for where, node in client_integers(schema)
        if not (-INT64_MAX - 1 <= node.get("minimum", -(2**64)) <= INT64_MAX)
        or not (-INT64_MAX - 1 <= node.get("maximum", 2**64) <= INT64_MAX)
    ]
