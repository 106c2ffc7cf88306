"""``POST /internal/identity/resolve`` on a project without DRF."""

from __future__ import annotations

import sys

import pytest
from django.contrib.auth.models import Group, Permission

from tests.identity_project.resolvers import bearer_token_for
from tests.strangler.contrib.identity.conftest import ANONYMOUS, ask, make_user, session_of

pytestmark = pytest.mark.django_db


def test_the_project_has_no_drf() -> None:
    with pytest.raises(ModuleNotFoundError):
        import rest_framework  # noqa: F401

    assert not any(name.startswith("rest_framework") for name in sys.modules)


def test_a_session_under_the_projects_cookie_name_resolves_to_its_user(proxy) -> None:
    alice = make_user("alice")

    response = ask(proxy, {"session_id": session_of(alice)})

    assert response.status_code == 200
    assert response.json() == {
        "authenticated": True,
        "user_id": str(alice.pk),
        "username": "alice",
        "is_staff": False,
    }


def test_a_bearer_token_resolves_through_the_projects_resolver(proxy) -> None:
    stella = make_user("stella", is_staff=True)

    response = ask(proxy, {"authorization": f"Bearer {bearer_token_for(stella)}"})

    assert response.json()["username"] == "stella"
    assert response.json()["is_staff"] is True


def test_a_bearer_token_that_does_not_verify_is_anonymous_without_falling_back(proxy) -> None:
    alice = make_user("alice")

    response = ask(proxy, {"session_id": session_of(alice), "authorization": "Bearer forged.token"})

    assert response.status_code == 200
    assert response.json() == ANONYMOUS


def test_a_drf_token_is_anonymous_on_a_project_without_drf(proxy) -> None:
    make_user("alice")

    assert ask(proxy, {"token": "0" * 40}).json() == ANONYMOUS
    assert ask(proxy, {"authorization": "Token " + "0" * 40}).json() == ANONYMOUS


def test_a_scheme_no_resolver_reads_leaves_the_session_to_decide(proxy) -> None:
    alice = make_user("alice")

    response = ask(proxy, {"session_id": session_of(alice), "authorization": "Basic YTpi"})

    assert response.json()["username"] == "alice"


def test_the_permissions_claim_carries_what_has_perm_reads(proxy) -> None:
    editors = Group.objects.create(name="editors")
    editors.permissions.add(Permission.objects.get(codename="change_group"))
    alice = make_user("alice")
    alice.groups.add(editors)
    alice.user_permissions.add(Permission.objects.get(codename="view_user"))

    answer = ask(proxy, {"session_id": session_of(alice)}).json()

    assert answer["permissions"] == ["auth.change_group", "auth.view_user"]
    assert answer["groups"] == ["editors"]
    assert "is_superuser" not in answer


def test_a_superuser_is_said_to_be_one_and_its_permissions_are_not_listed(proxy) -> None:
    root = make_user("root", is_superuser=True)

    answer = ask(proxy, {"session_id": session_of(root)}).json()

    assert answer["is_superuser"] is True
    assert "permissions" not in answer


def test_the_claims_go_only_when_configured(proxy, settings) -> None:
    settings.STRANGLER_IDENTITY = {
        **settings.STRANGLER_IDENTITY,
        "claims": [],
    }
    root = make_user("root", is_superuser=True)
    root.user_permissions.add(Permission.objects.get(codename="view_user"))

    answer = ask(proxy, {"session_id": session_of(root)}).json()

    assert set(answer) == {"authenticated", "user_id", "username", "is_staff"}


def test_a_user_too_large_for_an_assertion_is_422(proxy) -> None:
    giant = make_user("g" * 7000)  # SQLite does not enforce the column's length

    response = ask(proxy, {"authorization": f"Bearer {bearer_token_for(giant)}"})

    assert response.status_code == 422
    assert response.json()["code"] == "identity_too_large"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"not json", "bad_request"),
        (b"\xff\xfe", "bad_request"),
        (b"[]", "bad_request"),
        (b'"text"', "bad_request"),
        (b'{"session_id": 42}', "bad_request"),
        (b'{"authorization": ["Bearer", "x"]}', "bad_request"),
        (b'{"token": "a", "authorization": "Bearer b"}', "bad_request"),
    ],
)
def test_a_signed_body_that_is_no_question_is_400_with_a_stable_code(proxy, body, code) -> None:
    response = ask(proxy, body=body)

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert set(response.json()) == {"code", "message"}


@pytest.mark.parametrize(
    "payload",
    [
        {"session_id": "x" * 1000},
        {"session_id": "a b"},
        {"session_id": "../../etc/passwd"},
        {"authorization": "Bearer " + "x" * 5000},
        {"authorization": "Bearer \u00e9t\u00e9"},
        {"authorization": "Bearer"},
        {"authorization": "Bearer a b"},
        {"authorization": "   "},
        {"token": "a\nb"},
    ],
)
def test_a_credential_that_cannot_be_one_is_anonymous_never_an_error(proxy, payload) -> None:
    response = ask(proxy, payload)

    assert response.status_code == 200
    assert response.json() == ANONYMOUS


def test_a_call_not_signed_by_the_proxy_is_403(proxy) -> None:
    response = proxy.post("/internal/identity/resolve", data=b"{}", content_type="application/json")

    assert response.status_code == 403
    assert response.json()["code"] == "unauthenticated"
