"""``STRANGLER_IDENTITY`` read once, failing with the setting's name."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from strangler.contrib.identity import resolvers
from strangler.contrib.identity.config import identity_settings
from tests.identity_project.resolvers import signed_bearer


def test_the_projects_resolvers_are_asked_in_its_order() -> None:
    config = identity_settings()

    assert config.resolvers == (signed_bearer, resolvers.session)
    assert config.claims == {"permissions", "groups"}


def test_by_default_a_project_without_drf_resolves_sessions_only(settings) -> None:
    settings.STRANGLER_IDENTITY = {}

    assert identity_settings().resolvers == (resolvers.session,)
    assert identity_settings().claims == frozenset()


def test_the_settings_are_read_again_when_overridden(settings) -> None:
    identity_settings()
    settings.STRANGLER_IDENTITY = {"claims": ["groups"]}

    assert identity_settings().claims == {"groups"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["session"], "STRANGLER_IDENTITY must be a dict"),
        ({"resolver": []}, "unknown key(s) 'resolver'"),
        ({"claims": ["perms"]}, "unknown claim 'perms'"),
        ({"claims": "permissions"}, "STRANGLER_IDENTITY['claims'] must be a list of strings"),
        ({"resolvers": [42]}, "STRANGLER_IDENTITY['resolvers'] must be a list of strings"),
        ({"resolvers": ["no.such.module.resolver"]}, "STRANGLER_IDENTITY['resolvers'][0]"),
        ({"resolvers": ["strangler.contrib.identity.resolvers.__doc__"]}, "is not callable"),
        (
            {"resolvers": ["strangler.contrib.identity.resolvers.drf_token"]},
            "needs 'rest_framework.authtoken' in INSTALLED_APPS",
        ),
    ],
)
def test_a_malformed_setting_is_refused_naming_the_entry(settings, value, message) -> None:
    settings.STRANGLER_IDENTITY = value

    with pytest.raises(ImproperlyConfigured) as caught:
        identity_settings()

    assert message in str(caught.value)


def test_the_app_refuses_to_start_without_the_secret(settings) -> None:
    settings.STRANGLER_IDENTITY_SECRET = ""

    with pytest.raises(ImproperlyConfigured, match="STRANGLER_IDENTITY_SECRET"):
        apps.get_app_config("strangler_identity").ready()


def test_the_app_refuses_to_start_with_a_malformed_setting(settings) -> None:
    settings.STRANGLER_IDENTITY = {"claims": ["everything"]}

    with pytest.raises(ImproperlyConfigured, match="unknown claim"):
        apps.get_app_config("strangler_identity").ready()
