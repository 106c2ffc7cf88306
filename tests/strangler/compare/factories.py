"""Building requests, responses and rule books for the comparison engine's tests."""

from __future__ import annotations

import json
from typing import Any

from strangler.compare import (
    CompareEngine,
    HttpRequest,
    HttpResponse,
    RuleBook,
    parse_rules,
)
from strangler.compare.compiled import CompiledRules

JSON = (("Content-Type", "application/json"),)
HTML = (("Content-Type", "text/html; charset=utf-8"),)
ROUTE = "catalog-products"


def request(target: str = "/api/v1/products/", method: str = "GET", **kwargs: Any) -> HttpRequest:
    return HttpRequest(method, target, **kwargs)


def json_response(value: Any, status: int = 200, headers: tuple[tuple[str, str], ...] = ()):
    return HttpResponse(status, JSON + headers, json.dumps(value).encode())


def rules(data: dict[str, Any] | None = None) -> CompiledRules:
    return RuleBook(routes={ROUTE: parse_rules(data or {})}).for_route(ROUTE)


def engine(data: dict[str, Any] | None = None, **kwargs: Any) -> CompareEngine:
    return CompareEngine(RuleBook(routes={ROUTE: parse_rules(data or {})}), **kwargs)
