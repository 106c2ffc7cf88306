"""Where the CLI finds the proxy's admin API, and that it always says where it came from."""

from __future__ import annotations

from strangler.proxy_admin import admin_location


def test_the_admin_url_given_on_the_command_line_wins():
    env = {"STRANGLER_ADMIN_URL": "http://a:1", "PROXY_ADMIN_PORT": "9"}
    location = admin_location("http://given:2", env)
    assert (location.url, location.origin) == ("http://given:2", "from --admin")


def test_the_admin_url_variable_wins_over_the_port():
    location = admin_location(None, {"STRANGLER_ADMIN_URL": "http://a:1", "PROXY_ADMIN_PORT": "9"})
    assert (location.url, location.origin) == ("http://a:1", "from $STRANGLER_ADMIN_URL")


def test_the_stack_s_admin_port_names_the_loopback_url():
    location = admin_location(None, {"PROXY_ADMIN_PORT": "18001"})
    assert (location.url, location.origin) == ("http://127.0.0.1:18001", "from $PROXY_ADMIN_PORT")


def test_the_default_port_is_said_to_be_the_default_and_how_to_change_it():
    location = admin_location(None, {})
    assert location.url == "http://127.0.0.1:8001"
    assert "the default port" in location.origin
    assert "$PROXY_ADMIN_PORT" in location.origin
