"""The API clients a storefront API refuses a staff-only write, with the status and code."""

from __future__ import annotations

__all__ = ["REFUSED_WRITERS", "REFUSED_WRITER_IDS"]

# (client fixture name, status, error code)
REFUSED_WRITERS = [
    ("anon_api", 401, "not_authenticated"),
    ("customer_api", 403, "permission_denied"),
    ("other_api", 403, "permission_denied"),
]
REFUSED_WRITER_IDS = ["anonymous", "customer", "other-customer"]
