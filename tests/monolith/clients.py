"""API clients for the monolith's tests: one per user, authenticated by the user's token."""

from __future__ import annotations

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from monolith.accounts.models import User

__all__ = ["client_for"]


def client_for(user: User | None) -> APIClient:
    """An API client sending ``user``'s token (anonymous for ``None``)."""
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client
