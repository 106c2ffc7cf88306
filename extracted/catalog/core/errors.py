"""The catalog service's error tree. Services raise these; the API edge renders them.

CatalogError                    400  catalog_error   (a servicekit ServiceError)
└── Conflict                    409  conflict

The codes a client sees are the monolith's (``category_parent_cycle``, ``category_in_use``):
raisers pass them explicitly, so the two stay indistinguishable.
"""

from __future__ import annotations

from strangler.servicekit.api_errors import ServiceError

__all__ = ["CatalogError", "Conflict"]


class CatalogError(ServiceError):
    default_code = "catalog_error"


class Conflict(CatalogError):
    http_status = 409
    default_code = "conflict"
