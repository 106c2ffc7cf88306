"""deploy/grafana: a dashboard whose every query promtool parses over series the code exposes,
provisioned with the Prometheus each deployment runs, in Compose and on Kubernetes.

No Grafana runs here: the dashboard is checked as the JSON Grafana loads, and its queries as
PromQL once Grafana's variables are given values.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from ruamel.yaml import YAML

from tests.deploy.promql import OUR_METRIC, check_expressions, exposed_metric_names

REPO = Path(__file__).resolve().parents[2]
GRAFANA = REPO / "deploy" / "grafana"
DASHBOARD = GRAFANA / "strangler-dashboard.json"
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "prometheus.yml"
PROVIDERS = GRAFANA / "provisioning" / "dashboards" / "strangler.yml"
K8S = REPO / "deploy" / "k8s"

# Grafana's own variables and the dashboard's, as Grafana would fill them in.
VARIABLES = {
    "$__rate_interval": "1m",
    "$__interval": "15s",
    "$__range": "1h",
    "$route": ".*",
    "$legacy": "monolith",
}


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def panels() -> list[dict[str, Any]]:
    return [p for p in dashboard()["panels"] if p["type"] != "row"]


def queries() -> dict[str, str]:
    """Every panel's query, variables filled in, by panel title and query letter."""
    out = {}
    for panel in panels():
        for target in panel["targets"]:
            expr = target["expr"]
            # Longest first: $__range must not be read as a $__rate_interval prefix.
            for name in sorted(VARIABLES, key=len, reverse=True):
                expr = expr.replace(name, VARIABLES[name])
            out[f"{panel['title']} {target['refId']}"] = expr
    return out


def manifests() -> dict[tuple[str, str], dict[str, Any]]:
    out = {}
    for path in sorted(K8S.glob("*.yaml")):
        for doc in YAML(typ="safe").load_all(path.read_text(encoding="utf-8")):
            if doc and doc.get("kind") != "Kustomization":
                out[(doc["kind"], doc["metadata"]["name"])] = doc
    return out


MANIFESTS = manifests()


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load(REPO / "docker-compose.yml")


# --- the dashboard --------------------------------------------------------------------------


def test_every_panel_reads_the_provisioned_prometheus():
    [source] = load(DATASOURCES)["datasources"]
    assert panels()
    for panel in panels():
        assert panel["datasource"] == {"type": "prometheus", "uid": source["uid"]}, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == panel["datasource"], panel["title"]
    for variable in dashboard()["templating"]["list"]:
        if variable["type"] == "query":
            assert variable["datasource"]["uid"] == source["uid"], variable["name"]


def test_every_variable_a_query_uses_is_given_a_value_here_and_defined_there():
    defined = {f"${v['name']}" for v in dashboard()["templating"]["list"]}
    assert defined <= set(VARIABLES)
    for key, expr in queries().items():
        assert "$" not in expr, key


def test_promtool_parses_every_panels_query(promtool, tmp_path):
    result = check_expressions(promtool, queries(), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(queries())} rules found" in result.stdout


def test_promtool_refuses_a_query_that_does_not_parse(promtool, tmp_path):
    broken = {"fine": "sum(strangler_proxy_store_up)", "broken": "sum by (route (up)"}
    result = check_expressions(promtool, broken, tmp_path)
    assert result.returncode != 0
    assert "check:broken" in result.stdout + result.stderr


def test_every_series_a_panel_reads_is_one_the_code_exposes():
    exposed = exposed_metric_names(REPO)
    for key, expr in queries().items():
        assert set(OUR_METRIC.findall(expr)) <= exposed, key


def test_the_dashboard_shows_what_the_issue_asks_for():
    read = {name for expr in queries().values() for name in OUR_METRIC.findall(expr)}
    assert read >= {
        "strangler_proxy_requests_total",  # share of traffic, request and error rates
        "strangler_proxy_request_duration_seconds_bucket",  # p99
        "strangler_proxy_fallbacks_total",
        "strangler_proxy_breaker_state",
        "strangler_proxy_shadow_total",  # difference rate
        "strangler_sync_lag_seconds",
        "strangler_sync_backlog",
        "strangler_sync_dead_letters_parked",
        "strangler_proxy_store_up",
        "strangler_proxy_table_version",
        "strangler_proxy_held_requests",
        "django_http_responses_total_by_status_total",  # the projects' own answers
    }


def test_the_django_panels_read_the_django_scrape_only():
    # The same names could come from another job (a team's own exporter): keep to ours.
    for key, expr in queries().items():
        if "django_http" in expr:
            assert expr.count("django_http") == expr.count('{job="strangler-django"'), key


def test_no_two_panels_overlap():
    taken: dict[tuple[int, int], str] = {}
    for panel in dashboard()["panels"]:
        grid = panel["gridPos"]
        # Grafana's grid is 24 columns wide.
        assert grid["x"] >= 0, panel["title"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in taken, (panel["title"], taken.get((x, y)))
                taken[(x, y)] = panel["title"]


def test_panel_ids_are_unique_and_the_dashboard_has_a_stable_uid():
    ids = [p["id"] for p in dashboard()["panels"]]
    assert len(ids) == len(set(ids))
    assert re.fullmatch(r"[a-z0-9-]{1,40}", dashboard()["uid"])


# --- provisioning ---------------------------------------------------------------------------


def _prometheus_url() -> str:
    [source] = load(DATASOURCES)["datasources"]
    assert source["type"] == "prometheus"
    return str(source["url"])


def test_compose_grafana_reads_the_prometheus_service(compose):
    url = urlsplit(_prometheus_url())
    assert url.hostname in compose["services"]
    assert "prom/prometheus" in compose["services"][url.hostname]["image"]
    # The port Prometheus listens on, and the one the plans' gates read.
    assert url.port == 9090
    assert compose["services"]["proxy"]["environment"]["STRANGLER_PROMETHEUS_URL"] == (
        _prometheus_url()
    )


def test_k8s_grafana_reads_the_prometheus_service():
    url = urlsplit(_prometheus_url())
    service = MANIFESTS[("Service", url.hostname)]
    assert url.port in [p["port"] for p in service["spec"]["ports"]]
    assert (
        service["spec"]["selector"]
        == MANIFESTS[("StatefulSet", "prometheus")]["spec"]["selector"]["matchLabels"]
    )
    [cli] = MANIFESTS[("Deployment", "strangler-cli")]["spec"]["template"]["spec"]["containers"]
    [gates] = [v["value"] for v in cli["env"] if v["name"] == "STRANGLER_PROMETHEUS_URL"]
    assert gates == _prometheus_url()


def _dashboards_path() -> str:
    [provider] = load(PROVIDERS)["providers"]
    assert provider["type"] == "file"
    return str(provider["options"]["path"])


def test_compose_grafana_is_provisioned_with_the_shipped_files(compose):
    service = compose["services"]["grafana"]
    assert service["image"].startswith("grafana/grafana-oss:")
    volumes = service["volumes"]
    for kind in ("datasources", "dashboards"):
        assert (
            f"./deploy/grafana/provisioning/{kind}:/etc/grafana/provisioning/{kind}:ro" in volumes
        )
    assert f"./{DASHBOARD.relative_to(REPO)}:{_dashboards_path()}/{DASHBOARD.name}:ro" in volumes
    assert service["depends_on"]["prometheus"] == {"condition": "service_healthy"}
    assert "healthcheck" in service


def test_compose_grafanas_admin_password_comes_from_the_shell_or_compose_stops(compose):
    environment = compose["services"]["grafana"]["environment"]
    assert environment["GF_SECURITY_ADMIN_PASSWORD"].startswith(
        "${GRAFANA_ADMIN_PASSWORD:?set GRAFANA_ADMIN_PASSWORD "
    )
    assert environment["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert "ports" not in compose["services"]["grafana"]


def _grafana_pod() -> dict[str, Any]:
    return dict(MANIFESTS[("StatefulSet", "grafana")]["spec"]["template"]["spec"])


def _mounted(mount_path: str) -> dict[str, Any]:
    pod = _grafana_pod()
    [container] = pod["containers"]
    [mount] = [m for m in container["volumeMounts"] if m["mountPath"] == mount_path]
    [volume] = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    assert mount.get("readOnly") is True
    return dict(volume)


def test_k8s_config_maps_carry_the_shipped_files_word_for_word():
    provisioning = MANIFESTS[("ConfigMap", "grafana-provisioning")]["data"]
    dashboards = MANIFESTS[("ConfigMap", "grafana-dashboards")]["data"]
    for directory, shipped in (("datasources", DATASOURCES), ("dashboards", PROVIDERS)):
        volume = _mounted(f"/etc/grafana/provisioning/{directory}")
        [item] = volume["configMap"]["items"]
        assert volume["configMap"]["name"] == "grafana-provisioning"
        assert provisioning[item["key"]] == shipped.read_text(encoding="utf-8")
    assert _mounted(_dashboards_path())["configMap"] == {"name": "grafana-dashboards"}
    assert dashboards == {DASHBOARD.name: DASHBOARD.read_text(encoding="utf-8")}


def test_k8s_grafanas_admin_password_is_a_file_from_its_own_secret():
    [container] = _grafana_pod()["containers"]
    env = {v["name"]: v for v in container["env"]}
    assert "GF_SECURITY_ADMIN_PASSWORD" not in env
    path = env["GF_SECURITY_ADMIN_PASSWORD__FILE"]["value"]
    directory, name = path.rsplit("/", 1)
    secret = _mounted(directory)["secret"]
    assert secret["secretName"] == "strangler-grafana"
    assert {"key": "admin-password", "path": name} in secret["items"]


def test_k8s_grafana_answers_inside_the_cluster_only():
    service = MANIFESTS[("Service", "grafana")]
    assert service["spec"].get("type", "ClusterIP") == "ClusterIP"
    assert (
        service["spec"]["selector"]
        == (MANIFESTS[("StatefulSet", "grafana")]["spec"]["selector"]["matchLabels"])
    )
