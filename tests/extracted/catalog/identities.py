"""The callers the proxy can vouch for, and the signed header it would send for each."""

from __future__ import annotations

import time

from django.conf import settings
from rest_framework.test import APIClient

from strangler.identity import Identity, sign_identity

__all__ = ["ALICE", "BOB", "STELLA", "client_for", "identity_header"]

ALICE = Identity(user_id="11", username="alice")
BOB = Identity(user_id="12", username="bob")
STELLA = Identity(user_id="13", username="stella", is_staff=True)


def identity_header(identity: Identity, *, secret: str | None = None) -> str:
    """The ``X-Strangler-Identity`` value the proxy would send for ``identity`` now."""
    key = secret if secret is not None else settings.STRANGLER_IDENTITY_SECRET
    return sign_identity(identity, secret=key, now=time.time())


def client_for(identity: Identity | None) -> APIClient:
    client = APIClient()
    if identity is not None:
        client.credentials(HTTP_X_STRANGLER_IDENTITY=identity_header(identity))
    return client
