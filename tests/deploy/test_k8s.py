"""deploy/k8s: every manifest valid against the Kubernetes schema, probes on /readyz and
/healthz, resource requests, a route table the proxy accepts, and a proxy fleet wired to the
control store."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
KUBERNETES_VERSION = "1.31"


def documents() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in YAML(typ="safe").load_all(path.read_text(encoding="utf-8")):
            if doc and doc.get("kind") != "Kustomization":
                out.append((f"{path.name}:{doc['kind']}/{doc['metadata']['name']}", doc))
    return out


DOCUMENTS = documents()
DEPLOYMENTS = {doc["metadata"]["name"]: doc for _, doc in DOCUMENTS if doc["kind"] == "Deployment"}
STATEFULSETS = {
    doc["metadata"]["name"]: doc for _, doc in DOCUMENTS if doc["kind"] == "StatefulSet"
}
SERVICES = {doc["metadata"]["name"]: doc for _, doc in DOCUMENTS if doc["kind"] == "Service"}
STORE_URL = {"secretKeyRef": {"name": "strangler-store", "key": "url"}}
# Upstream discovery joins the table's schema with issue 15's upstreams work; until that is
# merged the checker refuses `discovery:` (the test below checks the rest of the table).


@pytest.mark.parametrize(("name", "doc"), DOCUMENTS, ids=[n for n, _ in DOCUMENTS])
def test_every_manifest_is_valid_kubernetes(name, doc):
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_validator_refuses_an_unknown_field():
    doc = dict(DEPLOYMENTS["proxy"])
    doc["spec"] = {**doc["spec"], "replicaz": 3}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_kustomize_lists_every_manifest():
    kustomization = YAML(typ="safe").load((K8S / "kustomization.yaml").read_text())
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files


@pytest.mark.parametrize("name", ["monolith", "catalog", "proxy"])
def test_servers_are_probed_on_readyz_and_healthz(name):
    [container] = DEPLOYMENTS[name]["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_every_container_asks_for_resources():
    for name, deployment in DEPLOYMENTS.items():
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            assert container["resources"]["requests"], name


def test_each_project_runs_workers_and_exactly_one_beat():
    for project in ("monolith", "catalog"):
        assert f"{project}-worker" in DEPLOYMENTS
        assert DEPLOYMENTS[f"{project}-beat"]["spec"]["replicas"] == 1


def _check_table(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "strangler.proxy.check", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


def test_the_route_table_config_map_is_a_table_the_proxy_accepts(tmp_path):
    config = next(doc for _, doc in DOCUMENTS if doc["metadata"]["name"] == "strangler-routes")
    table = tmp_path / "routes.yaml"
    table.write_text(config["data"]["routes.yaml"], encoding="utf-8")
    result = _check_table(table)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_route_table_with_the_catalog_at_one_address_is_a_table_the_proxy_accepts(tmp_path):
    # Everything but the discovery source, checked whatever the checker knows of discovery.
    table = _routes()
    catalog = table["upstreams"]["catalog"]
    discovery = catalog.pop("discovery")
    catalog["url"] = f"http://{discovery['dns']}:{discovery['port']}"
    path = tmp_path / "routes.yaml"
    YAML(typ="safe").dump(table, path)
    result = _check_table(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_seed_table_is_mounted_read_only_as_a_directory():
    # A directory, not a subPath: `strangler routes import /config/routes.yaml` in the CLI pod
    # reads the ConfigMap's current version.
    spec = DEPLOYMENTS["proxy"]["spec"]["template"]["spec"]
    [mount] = spec["containers"][0]["volumeMounts"]
    assert "subPath" not in mount
    assert mount["readOnly"] is True
    assert "/config/routes.yaml" in spec["containers"][0]["command"]
    [volume] = [v for v in spec["volumes"] if v["name"] == mount["name"]]
    assert volume["configMap"]["name"] == "strangler-routes"


def test_no_manifest_carries_a_secret_value():
    assert [name for name, doc in DOCUMENTS if doc["kind"] == "Secret"] == []
    for name, doc in DOCUMENTS:
        assert "stringData" not in doc, name


@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_every_pod_reads_its_secrets_from_the_secret_the_operator_creates(name):
    pod = DEPLOYMENTS[name]["spec"]["template"]["spec"]
    for container in [*pod.get("initContainers", []), *pod["containers"]]:
        sources = container.get("envFrom", [])
        assert {"secretRef": {"name": "strangler-secrets"}} in sources, (name, container["name"])
        for variable in container.get("env", []):
            assert "value" not in variable or "SECRET" not in variable["name"], variable


def test_only_the_proxys_public_port_can_be_published():
    for name, doc in DOCUMENTS:
        if doc["kind"] == "Service" and doc["spec"].get("type") in ("NodePort", "LoadBalancer"):
            assert doc["metadata"]["name"] == "proxy", name
            assert [p["targetPort"] for p in doc["spec"]["ports"]] == ["http"], name
    for name, deployment in DEPLOYMENTS.items():
        pod = deployment["spec"]["template"]["spec"]
        assert not pod.get("hostNetwork"), name
        for container in pod["containers"]:
            assert all("hostPort" not in port for port in container.get("ports", [])), name
    admin = next(doc for _, doc in DOCUMENTS if doc["metadata"]["name"] == "proxy-admin")
    assert admin["spec"].get("type", "ClusterIP") == "ClusterIP"


# --- the fleet and its store ----------------------------------------------------------------


def _container(workload: dict[str, Any]) -> dict[str, Any]:
    [container] = workload["spec"]["template"]["spec"]["containers"]
    return container


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {variable["name"]: variable for variable in container.get("env", [])}


def test_the_proxy_runs_a_fleet_of_replicas():
    assert DEPLOYMENTS["proxy"]["spec"]["replicas"] > 1


@pytest.mark.parametrize("name", ["proxy", "strangler-cli"])
def test_every_store_reader_takes_its_url_from_the_store_secret(name):
    variable = _env(_container(DEPLOYMENTS[name]))["STRANGLER_STORE_URL"]
    assert variable == {"name": "STRANGLER_STORE_URL", "valueFrom": STORE_URL}


def test_no_manifest_writes_a_store_url_in_clear():
    for name, doc in DOCUMENTS:
        if doc["kind"] in ("Deployment", "StatefulSet"):
            for container in doc["spec"]["template"]["spec"]["containers"]:
                variable = _env(container).get("STRANGLER_STORE_URL")
                assert variable is None or "value" not in variable, name
        if doc["kind"] == "ConfigMap":
            assert "STRANGLER_STORE_URL" not in doc["data"], name


def test_each_proxy_replica_is_named_by_its_pod():
    variable = _env(_container(DEPLOYMENTS["proxy"]))["PROXY_REPLICA_ID"]
    assert variable["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}


def test_each_proxy_replica_advertises_its_admin_api_at_its_pod_address():
    # Pod names do not resolve: the plans reach each replica's counters at its address.
    env = _env(_container(DEPLOYMENTS["proxy"]))
    assert env["POD_IP"]["valueFrom"] == {"fieldRef": {"fieldPath": "status.podIP"}}
    port = next(p for p in _container(DEPLOYMENTS["proxy"])["ports"] if p["name"] == "admin")
    assert env["PROXY_ADVERTISE_URL"]["value"] == f"http://$(POD_IP):{port['containerPort']}"


def test_the_store_is_a_postgres_with_probes_and_a_volume():
    store = STATEFULSETS["strangler-store"]
    container = _container(store)
    assert container["image"].startswith("postgres:")
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["exec"]["command"][0] == "pg_isready", probe
    [claim] = store["spec"]["volumeClaimTemplates"]
    assert {m["name"] for m in container["volumeMounts"]} == {claim["metadata"]["name"]}
    password = _env(container)["POSTGRES_PASSWORD"]
    assert password["valueFrom"] == {"secretKeyRef": {"name": "strangler-store", "key": "password"}}


def test_the_store_service_answers_where_the_documented_url_points():
    # store.yaml's header shows the Secret's url: postgres://strangler:$pw@HOST:PORT/DB.
    text = (K8S / "store.yaml").read_text(encoding="utf-8")
    [url] = re.findall(r'url="(postgres://[^"]+)"', text)
    parts = urlsplit(url)
    service = SERVICES[parts.hostname]
    assert (
        service["spec"]["selector"]
        == STATEFULSETS["strangler-store"]["spec"]["selector"]["matchLabels"]
    )
    [port] = service["spec"]["ports"]
    assert port["port"] == parts.port == 5432
    environment = _env(_container(STATEFULSETS["strangler-store"]))
    assert parts.username == environment["POSTGRES_USER"]["value"]
    assert parts.path == "/" + environment["POSTGRES_DB"]["value"]


def test_the_proxy_waits_for_a_table_before_taking_traffic():
    container = _container(DEPLOYMENTS["proxy"])
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}


def test_the_admin_service_reaches_every_replica_on_the_admin_port():
    admin = SERVICES["proxy-admin"]
    assert admin["spec"]["selector"] == DEPLOYMENTS["proxy"]["spec"]["selector"]["matchLabels"]
    assert [p["targetPort"] for p in admin["spec"]["ports"]] == ["admin"]


def _routes() -> dict[str, Any]:
    config = next(doc for _, doc in DOCUMENTS if doc["metadata"]["name"] == "strangler-routes")
    return YAML(typ="safe").load(config["data"]["routes.yaml"])


def test_the_table_discovers_the_catalogs_instances_through_its_headless_service():
    discovery = _routes()["upstreams"]["catalog"]["discovery"]
    namespace = YAML(typ="safe").load((K8S / "kustomization.yaml").read_text())["namespace"]
    service, rest = discovery["dns"].split(".", 1)
    assert rest == f"{namespace}.svc.cluster.local"
    headless = SERVICES[service]
    assert headless["spec"]["clusterIP"] == "None"
    catalog = DEPLOYMENTS["catalog"]
    assert headless["spec"]["selector"] == catalog["spec"]["selector"]["matchLabels"]
    assert discovery["type"] == "A"
    [port] = [p["containerPort"] for p in _container(catalog)["ports"] if p["name"] == "http"]
    assert discovery["port"] == port
    assert catalog["spec"]["replicas"] > 1


def test_the_cli_pod_reaches_the_admin_api_and_prometheus_by_service():
    environment = _env(_container(DEPLOYMENTS["strangler-cli"]))
    admin = urlsplit(environment["STRANGLER_ADMIN_URL"]["value"])
    assert admin.port in [p["port"] for p in SERVICES[admin.hostname]["spec"]["ports"]]
    assert admin.hostname == "proxy-admin"
    prometheus = urlsplit(environment["STRANGLER_PROMETHEUS_URL"]["value"])
    assert prometheus.port in [p["port"] for p in SERVICES[prometheus.hostname]["spec"]["ports"]]
    assert (
        SERVICES[prometheus.hostname]["spec"]["selector"]
        == (STATEFULSETS["prometheus"]["spec"]["selector"]["matchLabels"])
    )


@pytest.mark.parametrize("name", sorted(STATEFULSETS))
def test_every_stateful_server_is_probed_and_asks_for_resources(name):
    container = _container(STATEFULSETS[name])
    assert container["readinessProbe"], name
    assert container["livenessProbe"], name
    assert container["resources"]["requests"], name
