"""``strangler dashboard``'s refusals: each names what to fix, with an exit status, never a
traceback, before anything is served."""

from __future__ import annotations

import socket

import pytest

from strangler.cli import main


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path):
    for name in ("STRANGLER_STORE_URL", "PROXY_ADMIN_TOKEN", "DASHBOARD_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STRANGLER_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("STRANGLER_DEMO", "0")
    return monkeypatch


def test_outside_demo_mode_it_refuses_to_start_without_an_admin_token(clean_env, capfd):
    code = main(["dashboard", "--port", "0"])

    _, err = capfd.readouterr()
    assert code == 2
    assert "PROXY_ADMIN_TOKEN is not set" in err
    assert "Traceback" not in err


def test_a_published_token_is_refused_too(clean_env, capfd):
    clean_env.setenv("PROXY_ADMIN_TOKEN", "insecure-demo-admin-token")

    code = main(["dashboard", "--port", "0"])

    assert code == 2
    assert "PROXY_ADMIN_TOKEN is a published demo value" in capfd.readouterr().err


def test_an_interval_out_of_bounds_is_refused_by_name(clean_env, capfd):
    with pytest.raises(SystemExit) as exited:
        main(["dashboard", "--interval", "0"])

    assert exited.value.code == 2
    assert "--interval: give between 0.1 and 3600 seconds" in capfd.readouterr().err


def test_a_port_in_use_is_named(clean_env, capfd, tmp_path):
    clean_env.setenv("STRANGLER_DEMO", "1")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        code = main(["dashboard", "--port", str(port), "--admin", "http://127.0.0.1:9",
                     "--plans", str(tmp_path / "none")])  # fmt: skip

    err = capfd.readouterr().err
    assert code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in err
    assert "Traceback" not in err
