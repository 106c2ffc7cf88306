"""``${NAME}`` and ``${NAME:-default}`` in a configuration file's string values."""

from __future__ import annotations

import pytest

from strangler.envsubst import ExpansionError, expand_text, expand_values

ENV = {"MONOLITH_PORT": "9100", "EMPTY": ""}


def test_a_reference_takes_the_variable_s_value():
    assert expand_text("http://127.0.0.1:${MONOLITH_PORT}", ENV) == "http://127.0.0.1:9100"


def test_a_set_variable_wins_over_its_default():
    assert expand_text("${MONOLITH_PORT:-8100}", ENV) == "9100"


def test_the_default_serves_when_the_variable_is_unset_or_empty():
    assert expand_text("${CATALOG_PORT:-8200}/${EMPTY:-x}", ENV) == "8200/x"


def test_an_empty_default_is_a_default():
    assert expand_text("a${CATALOG_PORT:-}b", ENV) == "ab"


def test_an_unset_variable_without_default_is_refused_naming_it():
    with pytest.raises(ExpansionError, match=r"\$\{CATALOG_PORT\} is not set") as error:
        expand_text("http://127.0.0.1:${CATALOG_PORT}", ENV)
    assert error.value.variable == "CATALOG_PORT"


def test_an_empty_variable_without_default_is_refused():
    with pytest.raises(ExpansionError, match=r"\$\{EMPTY\} is empty"):
        expand_text("${EMPTY}", ENV)


def test_two_dollars_are_one_literal_dollar():
    assert expand_text("price $$5, $${MONOLITH_PORT}", ENV) == "price $5, ${MONOLITH_PORT}"


def test_a_dollar_before_anything_else_stays_as_written():
    assert expand_text("$.results[0] ^/a$ $MONOLITH_PORT", ENV) == (
        "$.results[0] ^/a$ $MONOLITH_PORT"
    )


def test_a_reference_in_a_default_is_refused():
    with pytest.raises(ExpansionError, match="no nesting"):
        expand_text("${CATALOG_PORT:-${MONOLITH_PORT}}", ENV)


@pytest.mark.parametrize("text", ["${", "${MONOLITH_PORT", "${1X}", "${A B}", "${X:?e}"])
def test_a_malformed_reference_is_refused(text):
    with pytest.raises(ExpansionError):
        expand_text(text, ENV)


def test_a_value_is_expanded_once_not_again():
    assert expand_text("${A}", {"A": "${MONOLITH_PORT}"}) == "${MONOLITH_PORT}"


def test_values_expand_at_any_depth_and_keys_never():
    data = {"${K}": {"url": "http://h:${MONOLITH_PORT}", "list": ["${MONOLITH_PORT}", 3, None]}}
    assert expand_values(data, ENV) == {"${K}": {"url": "http://h:9100", "list": ["9100", 3, None]}}


def test_an_error_knows_the_place_of_the_value():
    data = {"routes": [{"name": "r"}, {"name": "s", "owner": "${NOWHERE}"}]}
    with pytest.raises(ExpansionError) as error:
        expand_values(data, ENV)
    assert error.value.loc == ("routes", 1, "owner")
