from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from monolith.accounts.models import User
from tests.monolith.factories import make_user


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    # The production hasher takes ~0.3 s a password by design; tests create hundreds of users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def customer(db: None) -> User:
    return make_user(username="alice")


@pytest.fixture
def other_customer(db: None) -> User:
    return make_user(username="bob")


@pytest.fixture
def staff(db: None) -> User:
    return make_user(username="stella", is_staff=True)


@pytest.fixture
def anon_api(db: None) -> APIClient:
    return _client_for(None)


@pytest.fixture
def customer_api(customer: User) -> APIClient:
    return _client_for(customer)


@pytest.fixture
def other_api(other_customer: User) -> APIClient:
    return _client_for(other_customer)


@pytest.fixture
def staff_api(staff: User) -> APIClient:
    return _client_for(staff)
