"""docker-compose.yml: valid against the Compose Specification, and running the same
processes with the same settings as `strangler up` (stack.yaml) does.

No Docker engine runs on this machine, so the file is checked, not started.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest
from compose_spec import PyCompose
from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[2]


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load(REPO / "docker-compose.yml")


@pytest.fixture(scope="module")
def stack() -> dict[str, Any]:
    return load(REPO / "stack.yaml")


def validate(document: dict[str, Any]) -> None:
    # YAML anchors and merge keys are resolved by the YAML loader, as Compose does.
    PyCompose.from_json(json.dumps(document))


def test_the_compose_file_follows_the_compose_specification(compose):
    validate(compose)


def test_the_validator_refuses_what_the_specification_forbids(compose):
    broken = json.loads(json.dumps(compose))
    broken["services"]["proxy"]["healthcheck"]["interval"] = "soon"
    with pytest.raises(ValueError, match="duration"):
        validate(broken)


def test_every_part_of_the_stack_is_a_service(compose):
    assert set(compose["services"]) >= {
        "monolith", "monolith-worker", "monolith-beat", "catalog", "catalog-worker",
        "catalog-beat", "proxy", "monolith-db", "catalog-db", "redis",
    }  # fmt: skip


def test_each_service_has_a_database_of_its_own(compose):
    services = compose["services"]
    monolith = services["monolith"]["environment"]["DATABASE_URL"]
    catalog = services["catalog"]["environment"]["CATALOG_DATABASE_URL"]
    assert "@monolith-db:" in monolith
    assert "@catalog-db:" in catalog


def test_long_running_servers_have_health_checks(compose):
    for name in ("monolith", "catalog", "proxy", "monolith-db", "catalog-db", "redis"):
        assert "healthcheck" in compose["services"][name], name
    for name in ("monolith", "catalog", "proxy"):
        assert "/readyz" in " ".join(compose["services"][name]["healthcheck"]["test"])


def test_environment_comes_from_a_file_that_exists(compose):
    for name, service in compose["services"].items():
        for env_file in service.get("env_file", []):
            assert (REPO / env_file).is_file(), (name, env_file)


def _program(words: list[str]) -> list[str]:
    """A command without where it listens: what runs, with which app and options."""
    out: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        if word in ("--bind", "--host", "--config", "--schedule", "--hostname"):
            skip = True
            continue
        out.append(word)
    return out


@pytest.mark.parametrize(
    "process",
    [
        "monolith",
        "monolith-worker",
        "monolith-beat",
        "catalog",
        "catalog-worker",
        "catalog-beat",
        "proxy",
    ],
)
def test_a_service_runs_what_strangler_up_runs(compose, stack, process):
    expected = _program(shlex.split(stack["processes"][process]["run"]))
    assert _program(compose["services"][process]["command"]) == expected


@pytest.mark.parametrize("process", ["monolith", "catalog"])
def test_a_service_is_named_in_its_logs_as_strangler_up_names_it(compose, stack, process):
    environment = compose["services"][process]["environment"]
    assert environment["STRANGLER_SERVICE"] == process
    if process in stack["processes"]:
        assert stack["processes"][process]["env"]["STRANGLER_SERVICE"] == process


# Every Django process reads these three (strangler/servicekit/secret_settings.py); the proxy
# reads the identity secret and its admin token.
DJANGO_SECRETS = ("DJANGO_SECRET_KEY", "STRANGLER_IDENTITY_SECRET", "STRANGLER_SYNC_SECRET")
PROXY_SECRETS = ("STRANGLER_IDENTITY_SECRET", "PROXY_ADMIN_TOKEN")
SECRET_NAMES = (*DJANGO_SECRETS, "PROXY_ADMIN_TOKEN", "STRANGLER_SYNC_METRICS_TOKEN")


def _python_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in compose["services"].items() if "env_file" in s}


def test_every_secret_comes_from_the_shell_or_compose_stops_naming_it(compose):
    for name, service in _python_services(compose).items():
        environment = service.get("environment", {})
        for secret in PROXY_SECRETS if name == "proxy" else DJANGO_SECRETS:
            assert environment.get(secret, "").startswith(f"${{{secret}:?set {secret} "), (
                name,
                secret,
            )


def test_no_file_compose_reads_holds_a_secret(compose):
    env_files = {f for s in compose["services"].values() for f in s.get("env_file", [])}
    for env_file in env_files:
        text = (REPO / env_file).read_text(encoding="utf-8")
        names = {line.split("=", 1)[0].strip() for line in text.splitlines() if "=" in line}
        assert not names & set(SECRET_NAMES), env_file
    for name, service in compose["services"].items():
        for key, value in service.get("environment", {}).items():
            if key in SECRET_NAMES:
                assert str(value).startswith("${"), (name, key)


def test_the_shared_settings_still_name_the_broker():
    text = (REPO / "deploy" / "compose.env").read_text(encoding="utf-8")
    assert "CELERY_BROKER_URL=redis://redis:6379/0" in text.splitlines()


def test_only_the_proxys_public_port_is_published(compose):
    published = {name: s["ports"] for name, s in compose["services"].items() if "ports" in s}

    assert published == {"proxy": ["8000:8000"]}


def test_every_dockerfile_a_service_builds_exists(compose):
    for name, service in compose["services"].items():
        build = service.get("build")
        if build:
            assert (REPO / build["context"] / build["dockerfile"]).is_file(), name
