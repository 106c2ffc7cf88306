"""The catalog service's error tree. Services raise these; the API edge renders them.

CatalogError                    400  catalog_error
└── Conflict                    409  conflict

The codes a client sees are the monolith's (``category_parent_cycle``, ``category_in_use``):
raisers pass them explicitly, so the two stay indistinguishable.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = ["CatalogError", "Conflict"]


class CatalogError(Exception):
    http_status: ClassVar[int] = 400
    default_code: ClassVar[str] = "catalog_error"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details = details


class Conflict(CatalogError):
    http_status = 409
    default_code = "conflict"
