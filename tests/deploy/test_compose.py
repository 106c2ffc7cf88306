"""docker-compose.yml: valid against the Compose Specification, and running the same
processes with the same settings as `strangler up` (stack.yaml) does.

No Docker engine runs on this machine, so the file is checked, not started.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from compose_spec import PyCompose
from ruamel.yaml import YAML

from strangler.proxy.settings import ProxySettings

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


def test_only_the_load_balancers_public_port_is_published(compose):
    # The balancer in front of the proxy replicas (a published port cannot be shared by them).
    published = {name: s["ports"] for name, s in compose["services"].items() if "ports" in s}

    assert published == {"edge": ["8000:8000"]}


def test_every_dockerfile_a_service_builds_exists(compose):
    for name, service in compose["services"].items():
        build = service.get("build")
        if build:
            assert (REPO / build["context"] / build["dockerfile"]).is_file(), name


# --- the proxy fleet, its store, its balancer -----------------------------------------------

STORE_PASSWORD = (
    "${STRANGLER_STORE_PASSWORD:?set STRANGLER_STORE_PASSWORD to 32+ random characters}"
)


def test_the_proxy_runs_a_fleet_of_replicas(compose):
    assert compose["services"]["proxy"]["deploy"]["replicas"] > 1


def test_no_two_proxy_replicas_share_a_name_in_the_store(compose):
    # Unset, PROXY_REPLICA_ID is the hostname: each container's own id. A fixed id, hostname
    # or container name would be the same on every replica.
    proxy = compose["services"]["proxy"]
    assert "PROXY_REPLICA_ID" not in proxy["environment"]
    assert "hostname" not in proxy
    assert "container_name" not in proxy


def test_the_store_is_a_postgres_with_a_health_check(compose):
    store = compose["services"]["store"]
    assert store["image"].startswith("postgres:")
    assert store["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in store["volumes"])
    assert compose["services"]["proxy"]["depends_on"]["store"] == {"condition": "service_healthy"}


def test_every_proxy_replica_reads_the_store(compose):
    store = compose["services"]["store"]["environment"]
    url = compose["services"]["proxy"]["environment"]["STRANGLER_STORE_URL"]
    match = re.fullmatch(r"postgres://([^:]+):(\$\{[^}]+\})@([^:/]+):(\d+)/(\w+)", url)
    assert match, url
    user, password, host, port, database = match.groups()
    assert (user, database) == (store["POSTGRES_USER"], store["POSTGRES_DB"])
    assert (host, port) == ("store", "5432")
    assert password == store["POSTGRES_PASSWORD"] == STORE_PASSWORD


def test_the_store_password_comes_from_the_shell_or_compose_stops_naming_it(compose):
    header = (REPO / "docker-compose.yml").read_text(encoding="utf-8").split("name:", 1)[0]
    # The command the header gives sets it with the other secrets.
    assert "STRANGLER_STORE_PASSWORD" in header
    for name, service in compose["services"].items():
        for key, value in service.get("environment", {}).items():
            if "STRANGLER_STORE_PASSWORD" in str(value):
                assert STORE_PASSWORD in value, (name, key)


def test_the_seed_table_is_mounted_read_only_where_the_proxy_reads_it(compose):
    proxy = compose["services"]["proxy"]
    [volume] = proxy["volumes"]
    source, target, mode = volume.split(":")
    assert mode == "ro"
    assert proxy["command"][proxy["command"].index("--config") + 1] == target
    assert (REPO / source).is_file()


def test_the_seed_table_is_a_table_the_proxy_accepts(compose):
    source = compose["services"]["proxy"]["volumes"][0].split(":")[0]
    result = subprocess.run(
        [sys.executable, "-m", "strangler.proxy.check", str(REPO / source)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_cli_in_a_proxy_container_reads_the_fleets_figures_from_prometheus(compose):
    environment = compose["services"]["proxy"]["environment"]
    assert environment["STRANGLER_PROMETHEUS_URL"] == "http://prometheus:9090"
    assert "prometheus" in compose["services"]


@pytest.mark.parametrize("name", ["store", "prometheus"])
def test_the_fleets_servers_have_health_checks(compose, name):
    assert compose["services"][name]["healthcheck"]["test"], name


BALANCER = REPO / "deploy" / "haproxy" / "haproxy.compose.cfg"


def _balancer_lines() -> list[str]:
    lines = BALANCER.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def test_the_balancer_reads_the_config_shipped(compose):
    edge = compose["services"]["edge"]
    assert (
        f"./{BALANCER.relative_to(REPO)}:/usr/local/etc/haproxy/haproxy.cfg:ro" in edge["volumes"]
    )
    assert edge["image"].startswith("haproxy:")
    assert edge["depends_on"]["proxy"] == {"condition": "service_healthy"}


def test_the_balancer_finds_every_proxy_replica_through_composes_dns(compose):
    lines = _balancer_lines()
    [template] = [line.split() for line in lines if line.startswith("server-template ")]
    _, _, slots, address = template
    assert int(slots) >= compose["services"]["proxy"]["deploy"]["replicas"]
    host, port = address.split(":")
    assert host == "proxy"
    environment = compose["services"]["proxy"]["environment"]
    assert int(port) == int(environment.get("PROXY_PORT") or ProxySettings().port)
    # Compose's embedded DNS server, asked again while running.
    assert "nameserver docker 127.0.0.11:53" in lines
    [defaults] = [line for line in lines if line.startswith("default-server ")]
    assert "resolvers compose" in defaults
    assert "check" in defaults.split()


def test_the_balancer_sends_only_to_ready_replicas():
    lines = _balancer_lines()
    assert "option httpchk GET /readyz" in lines
    assert "http-check expect status 200" in lines


def test_the_balancer_listens_on_the_published_port(compose):
    [published] = compose["services"]["edge"]["ports"]
    assert "bind :" + published.split(":")[1] in _balancer_lines()


def test_the_proxies_believe_forwarding_headers_from_the_balancers_network_only(compose):
    services = compose["services"]
    [subnet] = [c["subnet"] for c in compose["networks"]["edge"]["ipam"]["config"]]
    assert services["proxy"]["environment"]["PROXY_TRUSTED_PROXIES"] == subnet
    ipaddress.ip_network(subnet)
    on_edge = {name for name, s in services.items() if "edge" in s.get("networks", [])}
    assert on_edge == {"edge", "proxy"}
    assert "option forwardfor" in _balancer_lines()


def test_haproxy_accepts_the_balancer_config(haproxy):
    result = subprocess.run(
        [str(haproxy), "-c", "-f", str(BALANCER)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_haproxy_refuses_a_broken_config(haproxy, tmp_path):
    broken = tmp_path / "haproxy.cfg"
    broken.write_text(
        BALANCER.read_text(encoding="utf-8").replace("balance leastconn", "balance soonest")
    )
    result = subprocess.run(
        [str(haproxy), "-c", "-f", str(broken)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
