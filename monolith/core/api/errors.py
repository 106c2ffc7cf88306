"""The storefront's API errors: ``strangler.servicekit.api_errors`` keyed by its error root.

Bodies are ``{"code", "message"}`` plus ``fields`` or ``details``
(``strangler.servicekit.api_errors``); a client missing credentials is told how to get a
token.
"""

from __future__ import annotations

from monolith.core.errors import StorefrontError
from strangler.servicekit.api_errors import api_exception_handler_for

__all__ = ["api_exception_handler"]

_MESSAGES = {
    "not_authenticated": "Authentication credentials were not provided. Send "
    "'Authorization: Token <token>' (POST /api/v1/auth/token/ to get one) or log in.",
    "authentication_failed": "The credentials are invalid. Get a new token with "
    "POST /api/v1/auth/token/.",
}

api_exception_handler = api_exception_handler_for(StorefrontError, messages=_MESSAGES)
