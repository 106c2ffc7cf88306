"""The catalog service's API errors: ``strangler.servicekit.api_errors`` keyed by its root.

Messages are the monolith's word for word: clients reach either through the proxy and must
not tell them apart.
"""

from __future__ import annotations

from extracted.catalog.core.errors import CatalogError
from strangler.servicekit.api_errors import api_exception_handler_for, token_auth_messages

__all__ = ["api_exception_handler"]

# The proxy authenticates clients with the monolith's token or session and vouches for
# them; so a client missing credentials is told how to get the monolith's token.
api_exception_handler = api_exception_handler_for(
    CatalogError, messages=token_auth_messages(obtain_path="/api/v1/auth/token/")
)
