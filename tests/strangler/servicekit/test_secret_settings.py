"""The start-up check of secrets: what it refuses outside demo mode, what demo mode fills in."""

from __future__ import annotations

import re
import secrets
import subprocess
from pathlib import Path

import pytest

from strangler.servicekit.secret_settings import (
    IDENTITY_SECRET,
    MIN_SECRET_CHARS,
    PROXY_ADMIN_TOKEN,
    SYNC_METRICS_TOKEN,
    SYNC_SECRET,
    SecretRefused,
    django_secret_key,
    read_secrets,
    secret_problem,
)

REPO = Path(__file__).resolve().parents[3]

KEY = django_secret_key("insecure-demo-key-test")
SPECS = (KEY, IDENTITY_SECRET, SYNC_SECRET)


def strong() -> str:
    return secrets.token_urlsafe(32)


def deployment(**values: str) -> dict[str, str]:
    env = {spec.name: strong() for spec in SPECS}
    env.update(values)
    return env


def test_strong_secrets_are_read_as_they_are() -> None:
    env = deployment()

    assert read_secrets(env, SPECS) == env


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "is not set"),
        ("x" * (MIN_SECRET_CHARS - 1), "is too short (31 characters, at least 32)"),
        ("insecure-demo-sync-secret", "is a published demo value"),
        ("INSECURE-" + "x" * 40, "is a published demo value"),
        (" " + "x" * 40, "starts or ends with white space"),
    ],
    ids=["empty", "short", "published", "published-any-case", "padded"],
)
def test_an_unusable_secret_is_refused_naming_the_variable(value: str, reason: str) -> None:
    with pytest.raises(SecretRefused) as refused:
        read_secrets(deployment(STRANGLER_SYNC_SECRET=value), SPECS)

    assert f"STRANGLER_SYNC_SECRET {reason}" in str(refused.value)


def test_a_missing_secret_is_refused_naming_the_variable() -> None:
    env = deployment()
    del env["STRANGLER_IDENTITY_SECRET"]

    with pytest.raises(SecretRefused, match="STRANGLER_IDENTITY_SECRET is not set"):
        read_secrets(env, SPECS)


def test_every_variable_at_fault_is_named_at_once() -> None:
    with pytest.raises(SecretRefused) as refused:
        read_secrets({}, SPECS)

    for spec in SPECS:
        assert f"{spec.name} is not set" in str(refused.value)


def test_the_refusal_never_repeats_the_value() -> None:
    value = "hunter2-but-longer"

    with pytest.raises(SecretRefused) as refused:
        read_secrets(deployment(DJANGO_SECRET_KEY=value), SPECS)

    assert value not in str(refused.value)


def test_the_refusal_says_how_to_make_a_secret_and_how_to_run_the_demo() -> None:
    with pytest.raises(SecretRefused) as refused:
        read_secrets({}, SPECS)

    assert "secrets.token_urlsafe" in str(refused.value)
    assert "STRANGLER_DEMO=1" in str(refused.value)


def test_another_projects_demo_value_is_refused_too() -> None:
    with pytest.raises(SecretRefused, match="DJANGO_SECRET_KEY is a published demo value"):
        read_secrets(deployment(DJANGO_SECRET_KEY="insecure-demo-key-catalog-change-me"), SPECS)


def test_demo_mode_fills_in_the_published_demo_values() -> None:
    values = read_secrets({"STRANGLER_DEMO": "1"}, (*SPECS, PROXY_ADMIN_TOKEN))

    assert values == {
        "DJANGO_SECRET_KEY": "insecure-demo-key-test",
        "STRANGLER_IDENTITY_SECRET": "insecure-demo-identity-secret",
        "STRANGLER_SYNC_SECRET": "insecure-demo-sync-secret",
        "PROXY_ADMIN_TOKEN": "insecure-demo-admin-token",
    }


def test_demo_mode_keeps_a_value_that_is_set_whatever_it_is() -> None:
    values = read_secrets({"STRANGLER_DEMO": "1", "STRANGLER_SYNC_SECRET": "short"}, SPECS)

    assert values["STRANGLER_SYNC_SECRET"] == "short"


@pytest.mark.parametrize("off", ["0", "false", ""])
def test_demo_mode_off_checks_as_if_unset(off: str) -> None:
    with pytest.raises(SecretRefused, match="DJANGO_SECRET_KEY is not set"):
        read_secrets({"STRANGLER_DEMO": off}, SPECS)


def test_a_demo_switch_that_is_neither_on_nor_off_is_refused() -> None:
    with pytest.raises(SecretRefused, match="STRANGLER_DEMO='maybe'"):
        read_secrets({"STRANGLER_DEMO": "maybe", **deployment()}, SPECS)


def test_an_optional_secret_left_unset_reads_empty() -> None:
    values = read_secrets(deployment(), (*SPECS, SYNC_METRICS_TOKEN))

    assert values["STRANGLER_SYNC_METRICS_TOKEN"] == ""


def test_an_optional_secret_that_is_set_must_be_strong() -> None:
    with pytest.raises(SecretRefused, match="STRANGLER_SYNC_METRICS_TOKEN is too short"):
        read_secrets(
            deployment(STRANGLER_SYNC_METRICS_TOKEN="metrics"), (*SPECS, SYNC_METRICS_TOKEN)
        )


_NAMES = (
    r"(?P<name>DJANGO_SECRET_KEY|STRANGLER_IDENTITY_SECRET|STRANGLER_SYNC_SECRET"
    r"|STRANGLER_SYNC_METRICS_TOKEN|PROXY_ADMIN_TOKEN)"
)
# In configuration and docs: NAME=value, NAME: value. In Python: only a quoted literal.
_IN_TEXT = re.compile(_NAMES + r"[\"']?\s*[:=]\s*[\"']?(?P<value>[^\s\"',})]+)")
_IN_PYTHON = re.compile(_NAMES + r"[\"']?\s*[:=]\s*[\"'](?P<value>[^\"']+)[\"']")
_SCANNED = {".py", ".md", ".yaml", ".yml", ".env", ".toml", ".sh", ".cfg", ".ini", ""}


def committed_secret_values() -> list[tuple[str, str, str]]:
    """(file, variable, value) for every literal value a tracked file gives a secret."""
    files = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True, timeout=30
    ).stdout.split()
    found = []
    for name in files:
        path = REPO / name
        if path.suffix not in _SCANNED or not path.is_file():
            continue
        pattern = _IN_PYTHON if path.suffix == ".py" else _IN_TEXT
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in pattern.finditer(text):
            if not match["value"].startswith("$"):  # ${VAR:?...}: taken from the environment
                found.append((name, match["name"], match["value"]))
    return found


def test_every_secret_value_committed_in_the_repository_is_refused() -> None:
    found = committed_secret_values()

    assert any(value == "insecure-demo-admin-token" for _, _, value in found)  # the scan works
    accepted = [(f, n, v) for f, n, v in found if secret_problem(n, v) is None]
    assert accepted == []
