"""``STRANGLER_STORE_URL``: unset means the file, a PostgreSQL URL the store; anything else
is refused naming the variable, and a password never reaches a message."""

from __future__ import annotations

import pytest

from strangler.compare.results_database import StoreUrl, StoreUrlInvalid, store_url


@pytest.mark.parametrize("value", [None, "", "  "])
def test_no_url_means_no_store(value):
    env = {} if value is None else {"STRANGLER_STORE_URL": value}

    assert store_url(env) is None


@pytest.mark.parametrize(
    "url", ["postgres://strangler@db:5432/strangler", "postgresql://db/strangler"]
)
def test_both_postgresql_schemes_name_the_store(url):
    assert store_url({"STRANGLER_STORE_URL": url}) == StoreUrl(url)


def test_another_scheme_is_refused_naming_the_variable_without_the_password():
    with pytest.raises(StoreUrlInvalid) as refused:
        store_url({"STRANGLER_STORE_URL": "redis://user:s3cret@cache:6379/0"})

    message = str(refused.value)
    assert message.startswith("STRANGLER_STORE_URL=redis://user:***@cache:6379/0: not a")
    assert "s3cret" not in message


def test_a_url_shows_without_its_password():
    url = StoreUrl("postgres://strangler:s3cret@db:5432/fleet?sslmode=require&password=s3cret")

    assert str(url) == "postgres://strangler:***@db:5432/fleet?sslmode=require&password=***"
