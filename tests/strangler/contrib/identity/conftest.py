"""The identity app in ``tests.identity_project``: no DRF, cookie ``shop_session``, Bearer
tokens through the project's own resolver (make test-strangler runs these with its settings)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.strangler.contrib.identity.identity_checks import signed_question

SECRET = "identity-project-test-secret"
PASSWORD = "a-test-password"
ANONYMOUS = {"authenticated": False, "user_id": None, "username": None, "is_staff": False}


@pytest.fixture
def proxy() -> Client:
    # CSRF checks on, as in production: the endpoint must not need a CSRF token.
    return Client(enforce_csrf_checks=True)


def ask(client: Client, payload: Any = None, *, body: bytes | None = None) -> Any:
    """POST the question signed as the proxy signs it."""
    body = json.dumps(payload).encode() if body is None else body
    return signed_question(client, body, secret=SECRET)


def make_user(username: str, **fields: Any) -> User:
    return User.objects.create_user(username=username, password=PASSWORD, **fields)


def session_of(user: User) -> str:
    """The session key a browser holds after logging in, under the project's cookie name."""
    browser = Client()
    assert browser.login(username=user.username, password=PASSWORD)
    return browser.cookies["shop_session"].value
