"""The team's own Bearer scheme: a token signed by Django's ``signing`` stands in for a JWT
(the resolver's shape is the same; the project needs no JWT library for the test)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core import signing

from strangler.contrib.identity.resolvers import (
    CredentialRejected,
    Credentials,
    authorization_credential,
)

_SALT = "identity-project-bearer"
# A JWT's lifetime, say.
_MAX_AGE_SECONDS = 300


def bearer_token_for(user: AbstractBaseUser) -> str:
    return signing.dumps({"user_id": user.pk}, salt=_SALT)


def signed_bearer(credentials: Credentials) -> AbstractBaseUser | None:
    token = authorization_credential(credentials, "Bearer")
    if token is None:
        return None
    try:
        claims = signing.loads(token, salt=_SALT, max_age=_MAX_AGE_SECONDS)
    except signing.BadSignature:
        raise CredentialRejected("The Bearer token does not verify.") from None
    user: AbstractBaseUser | None = (
        get_user_model().objects.filter(pk=claims["user_id"], is_active=True).first()
    )
    if user is None:
        raise CredentialRejected("The Bearer token's user is gone or inactive.")
    return user
