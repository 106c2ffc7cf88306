"""The proxy's process settings, read once from the environment: its secrets are checked at
start-up, as the services' are, and its edge limits come from named constants."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from strangler.proxy.edge_limits import HEADER_TIMEOUT_SECONDS, MAX_HEADER_BYTES
from strangler.proxy.settings import ProxySettings, SettingsError
from tests.monolith.processes import free_port, running, url_answers

REPO = Path(__file__).resolve().parents[2]
# A refusal comes before the proxy opens a socket: seconds, even on a loaded machine.
REFUSAL_TIMEOUT_SECONDS = 60


def deployment(**values: str | None) -> dict[str, str]:
    """An environment outside demo mode with strong secrets, changed by ``values``."""
    env = {
        "STRANGLER_IDENTITY_SECRET": secrets.token_urlsafe(32),
        "PROXY_ADMIN_TOKEN": secrets.token_urlsafe(32),
    }
    for name, value in values.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def test_strong_secrets_are_the_settings() -> None:
    env = deployment()

    settings = ProxySettings.from_env(env)

    assert (settings.identity_secret, settings.admin_token) == (
        env["STRANGLER_IDENTITY_SECRET"], env["PROXY_ADMIN_TOKEN"],
    )  # fmt: skip


@pytest.mark.parametrize("variable", ["STRANGLER_IDENTITY_SECRET", "PROXY_ADMIN_TOKEN"])
@pytest.mark.parametrize(
    ("value", "reason"),
    [(None, "is not set"), ("", "is not set"), ("t0ken", "is too short"),
     ("insecure-demo-admin-token", "is a published demo value")],
    ids=["missing", "empty", "short", "published"],
)  # fmt: skip
def test_an_unusable_secret_is_refused_naming_the_variable(
    variable: str, value: str | None, reason: str
) -> None:
    with pytest.raises(SettingsError, match=f"{variable} {reason}"):
        ProxySettings.from_env(deployment(**{variable: value}))


def test_demo_mode_takes_the_demo_secrets_the_services_share() -> None:
    settings = ProxySettings.from_env({"STRANGLER_DEMO": "1"})

    assert settings.identity_secret == "insecure-demo-identity-secret"
    assert settings.admin_token == "insecure-demo-admin-token"


def _proxy(port: int = 0) -> list[str]:
    return [sys.executable, "-m", "strangler.proxy", "--config", str(REPO / "routes.yaml"),
            "--port", str(port), "--admin-port", "0"]  # fmt: skip


def _child_env(tmp_path: Path, values: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in
           ("STRANGLER_DEMO", "STRANGLER_IDENTITY_SECRET", "PROXY_ADMIN_TOKEN")}  # fmt: skip
    return {**env, "STRANGLER_VAR_DIR": str(tmp_path), **values}


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        (deployment(STRANGLER_IDENTITY_SECRET=None), "STRANGLER_IDENTITY_SECRET"),
        (deployment(PROXY_ADMIN_TOKEN=""), "PROXY_ADMIN_TOKEN"),
        (deployment(PROXY_ADMIN_TOKEN="short-token"), "PROXY_ADMIN_TOKEN"),
        (deployment(STRANGLER_IDENTITY_SECRET="insecure-demo-identity-secret"),
         "STRANGLER_IDENTITY_SECRET"),
    ],
    ids=["missing", "empty", "short", "published"],
)  # fmt: skip
def test_the_proxy_process_refuses_to_start_naming_the_variable(
    tmp_path: Path, values: dict[str, str], variable: str
) -> None:
    done = subprocess.run(
        _proxy(), cwd=REPO, env=_child_env(tmp_path, values), capture_output=True,
        text=True, timeout=REFUSAL_TIMEOUT_SECONDS, check=False,
    )  # fmt: skip

    assert done.returncode == 2
    assert f"refusing to start: {variable} " in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


@pytest.mark.parametrize("values", [deployment(), {"STRANGLER_DEMO": "1"}],
                         ids=["strong-secrets", "demo-switch"])  # fmt: skip
def test_the_proxy_process_serves_with_strong_secrets_or_the_demo_switch(
    tmp_path: Path, values: dict[str, str]
) -> None:
    port = free_port()
    ready = url_answers(f"http://127.0.0.1:{port}/healthz")

    with running(_proxy(port), env=_child_env(tmp_path, values),
                 log=tmp_path / "proxy.log", ready=ready) as proc:  # fmt: skip
        assert proc.poll() is None


def test_the_edge_limits_default_to_the_named_constants() -> None:
    settings = ProxySettings.from_env(deployment())

    assert settings.header_timeout == HEADER_TIMEOUT_SECONDS
    assert settings.max_header_bytes == MAX_HEADER_BYTES


def test_the_edge_limits_are_read_from_the_environment() -> None:
    settings = ProxySettings.from_env(
        deployment(PROXY_HEADER_TIMEOUT="5", PROXY_KEEPALIVE_TIMEOUT="30",
                   PROXY_MAX_CONNECTIONS="200", PROXY_MAX_HEADER_BYTES="16384",
                   PROXY_MAX_HEADERS="50")
    )  # fmt: skip

    assert (settings.header_timeout, settings.keepalive_timeout) == (5.0, 30.0)
    assert (settings.max_connections, settings.max_header_bytes, settings.max_headers) == (
        200,
        16384,
        50,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [("PROXY_HEADER_TIMEOUT", "0"), ("PROXY_KEEPALIVE_TIMEOUT", "soon"),
     ("PROXY_MAX_CONNECTIONS", "0"), ("PROXY_MAX_HEADER_BYTES", "100"),
     ("PROXY_MAX_HEADERS", "5000")],
)  # fmt: skip
def test_an_unusable_edge_limit_stops_start_up_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        ProxySettings.from_env(deployment(**{name: value}))


def test_logging_and_the_event_loop_default_to_info_access_lines_and_uvloop() -> None:
    settings = ProxySettings.from_env(deployment())

    assert (settings.log_level, settings.access_log, settings.event_loop) == (
        "INFO", True, "uvloop",
    )  # fmt: skip


def test_logging_and_the_event_loop_are_read_from_the_environment() -> None:
    settings = ProxySettings.from_env(
        deployment(LOG_LEVEL="warning", PROXY_ACCESS_LOG="0", PROXY_EVENT_LOOP="asyncio")
    )

    assert (settings.log_level, settings.access_log, settings.event_loop) == (
        "WARNING", False, "asyncio",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("name", "value"),
    [("LOG_LEVEL", "LOUD"), ("PROXY_ACCESS_LOG", "off"), ("PROXY_EVENT_LOOP", "trio")],
)
def test_an_unusable_logging_or_loop_setting_stops_start_up_naming_the_variable(
    name: str, value: str
) -> None:
    with pytest.raises(SettingsError, match=name):
        ProxySettings.from_env(deployment(**{name: value}))


def test_the_identity_credentials_follow_the_monoliths_names() -> None:
    settings = ProxySettings.from_env(
        deployment(
            PROXY_IDENTITY_SESSION_COOKIE="shop_session", PROXY_IDENTITY_SCHEMES="Token, Bearer"
        )
    )

    assert settings.identity_session_cookie == "shop_session"
    assert settings.identity_schemes == ("Token", "Bearer")


def test_by_default_the_session_cookie_and_drf_tokens_are_asked_about() -> None:
    settings = ProxySettings.from_env(deployment())

    assert (settings.identity_session_cookie, settings.identity_schemes) == (
        "sessionid",
        ("Token",),
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [("PROXY_IDENTITY_SESSION_COOKIE", "session id"), ("PROXY_IDENTITY_SCHEMES", "Token,Be arer")],
)
def test_an_unusable_identity_name_stops_start_up_naming_the_variable(
    name: str, value: str
) -> None:
    with pytest.raises(SettingsError, match=name):
        ProxySettings.from_env(deployment(**{name: value}))


def test_without_a_store_url_the_proxy_keeps_the_file_store() -> None:
    settings = ProxySettings.from_env(deployment())

    assert settings.store_url is None
    assert settings.replica_id == socket.gethostname()
    assert settings.member == f"{socket.gethostname()}/0"


def test_a_replica_is_named_and_advertised_as_the_environment_says() -> None:
    settings = ProxySettings.from_env(
        deployment(STRANGLER_STORE_URL="postgres://fleet:pw@db:5432/control",
                   PROXY_REPLICA_ID="proxy-1", PROXY_ADVERTISE_URL="http://proxy-1.proxy:9001/",
                   PROXY_PORT="9000")
    )  # fmt: skip

    assert settings.store_url == "postgres://fleet:pw@db:5432/control"
    assert (settings.replica_id, settings.member) == ("proxy-1", "proxy-1/0")
    assert settings.admin_url == "http://proxy-1.proxy:9001"
    assert settings.public_url == "http://proxy-1.proxy:9000"


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_a_replica_bound_to_every_interface_is_advertised_by_its_hostname(host: str) -> None:
    settings = ProxySettings.from_env(deployment(PROXY_HOST=host, PROXY_ADMIN_PORT="9001"))

    assert settings.admin_url == f"http://{socket.gethostname()}:9001"


def test_a_replica_bound_to_one_address_is_advertised_at_it() -> None:
    settings = ProxySettings.from_env(deployment(PROXY_HOST="10.0.0.7", PROXY_ADMIN_PORT="9001"))

    assert settings.admin_url == "http://10.0.0.7:9001"


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [("STRANGLER_STORE_URL", "redis://cache:6379/0", "postgres://"),
     ("PROXY_REPLICA_ID", "two words", "letters, digits"),
     ("PROXY_ADVERTISE_URL", "proxy-1:8001", "base URL"),
     ("PROXY_ADVERTISE_URL", "http://proxy-1:8001/admin", "no path")],
)  # fmt: skip
def test_a_fleet_setting_that_cannot_be_used_is_refused_naming_it(
    name: str, value: str, says: str
) -> None:
    with pytest.raises(SettingsError, match=name) as refused:
        ProxySettings.from_env(deployment(**{name: value}))

    assert says in str(refused.value)
