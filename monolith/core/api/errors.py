"""The storefront's API errors: ``strangler.servicekit.api_errors`` keyed by its error root.

A client missing credentials is told how to get a token from the storefront's token endpoint.
"""

from __future__ import annotations

from monolith.core.errors import StorefrontError
from strangler.servicekit.api_errors import api_exception_handler_for, token_auth_messages

__all__ = ["api_exception_handler"]

api_exception_handler = api_exception_handler_for(
    StorefrontError, messages=token_auth_messages(obtain_path="/api/v1/auth/token/")
)
