"""Who may write: only the proxy's signed identity counts; anything else is anonymous.

An anonymous write answers exactly what the monolith answers an anonymous write: 401
``not_authenticated`` with the ``Token`` challenge.
"""

from __future__ import annotations

import time

import pytest
from rest_framework.test import APIClient

from extracted.catalog.catalog.models import Category
from strangler.identity import IDENTITY_TTL_SECONDS, sign_identity
from tests.extracted.catalog.factories import make_product
from tests.extracted.catalog.identities import STELLA, client_for, identity_header

NOT_AUTHENTICATED = {
    "code": "not_authenticated",
    "message": "Authentication credentials were not provided. Send "
    "'Authorization: Token <token>' (POST /api/v1/auth/token/ to get one) or log in.",
}


def _assert_anonymous_write_refused(response) -> None:
    assert response.status_code == 401
    assert response.json() == NOT_AUTHENTICATED
    assert response["WWW-Authenticate"] == "Token"
    assert not Category.objects.filter(name="Nope").exists()


def test_an_anonymous_write_is_refused_as_the_monolith_refuses_it(anon_api):
    _assert_anonymous_write_refused(anon_api.post("/api/v1/categories/", {"name": "Nope"}))


def test_a_customer_write_is_forbidden(customer_api):
    response = customer_api.post("/api/v1/categories/", {"name": "Nope"})

    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "message": "You do not have permission to perform this action.",
    }


def test_a_staff_identity_may_write(staff_api):
    response = staff_api.post("/api/v1/categories/", {"name": "Yes"})

    assert response.status_code == 201


def test_an_identity_signed_with_another_secret_is_anonymous(db):
    forged = sign_identity(STELLA, secret="not-the-shared-secret", now=time.time())
    client = APIClient(HTTP_X_STRANGLER_IDENTITY=forged)

    _assert_anonymous_write_refused(client.post("/api/v1/categories/", {"name": "Nope"}))


def test_an_expired_identity_is_anonymous(db, settings):
    long_ago = time.time() - 10 * IDENTITY_TTL_SECONDS
    stale = sign_identity(STELLA, secret=settings.STRANGLER_IDENTITY_SECRET, now=long_ago)
    client = APIClient(HTTP_X_STRANGLER_IDENTITY=stale)

    _assert_anonymous_write_refused(client.post("/api/v1/categories/", {"name": "Nope"}))


def test_a_tampered_identity_is_anonymous(db):
    payload, signature = identity_header(STELLA).split(".")
    client = APIClient(HTTP_X_STRANGLER_IDENTITY=f"{payload}x.{signature}")

    _assert_anonymous_write_refused(client.post("/api/v1/categories/", {"name": "Nope"}))


@pytest.mark.parametrize(
    "credentials",
    [
        {"HTTP_AUTHORIZATION": "Token 0123456789abcdef0123456789abcdef01234567"},
        {"HTTP_COOKIE": "sessionid=abc123"},
        {"HTTP_AUTHORIZATION": "Basic c3RlbGxhOnN0ZWxsYQ=="},
    ],
    ids=["token", "session-cookie", "basic"],
)
def test_the_service_has_no_credentials_of_its_own(db, credentials):
    # Tokens and sessions are the monolith's; the proxy resolves them, the service never does.
    client = APIClient(**credentials)

    _assert_anonymous_write_refused(client.post("/api/v1/categories/", {"name": "Nope"}))


def test_staff_see_inactive_products_only_with_a_valid_identity(db):
    product = make_product(is_active=False)
    forged = sign_identity(STELLA, secret="not-the-shared-secret", now=time.time())

    assert client_for(STELLA).get(f"/api/v1/products/{product.pk}/").status_code == 200
    forged_client = APIClient(HTTP_X_STRANGLER_IDENTITY=forged)
    assert forged_client.get(f"/api/v1/products/{product.pk}/").status_code == 404
