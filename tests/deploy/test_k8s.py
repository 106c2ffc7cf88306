"""deploy/k8s: every manifest valid against the Kubernetes schema, probes on /readyz and
/healthz, resource requests, and a route table the proxy accepts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

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


def test_the_route_table_config_map_is_a_table_the_proxy_accepts(tmp_path):
    config = next(doc for _, doc in DOCUMENTS if doc["metadata"]["name"] == "strangler-routes")
    table = tmp_path / "routes.yaml"
    table.write_text(config["data"]["routes.yaml"], encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "strangler.proxy.check", str(table)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_route_table_is_mounted_as_a_directory_so_updates_reach_the_proxy():
    spec = DEPLOYMENTS["proxy"]["spec"]["template"]["spec"]
    [mount] = spec["containers"][0]["volumeMounts"]
    assert "subPath" not in mount
    assert "/config/routes.yaml" in spec["containers"][0]["command"]


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
