"""deploy/prometheus: configurations promtool accepts, scraping every proxy replica's admin
port and each project's sync, in Compose and on Kubernetes.

Discovery cannot run here (no Docker, no cluster), so what it would find is worked out from
the deploy files themselves: the pods the manifests describe go through the scrape config's
selectors and relabelling, the way Prometheus applies them.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from strangler.proxy.settings import ProxySettings

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "deploy" / "prometheus"
K8S = REPO / "deploy" / "k8s"
COMPOSE_CONFIG = CONFIGS / "prometheus.compose.yml"
K8S_CONFIG = CONFIGS / "prometheus.k8s.yml"


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def manifests() -> dict[tuple[str, str], dict[str, Any]]:
    out = {}
    for path in sorted(K8S.glob("*.yaml")):
        for doc in YAML(typ="safe").load_all(path.read_text(encoding="utf-8")):
            if doc and doc.get("kind") != "Kustomization":
                out[(doc["kind"], doc["metadata"]["name"])] = doc
    return out


MANIFESTS = manifests()


def job(config: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [j for j in config["scrape_configs"] if j["job_name"] == name]
    return found


def check(promtool: Path, config: Path) -> subprocess.CompletedProcess[str]:
    # --syntax-only: the token file named by credentials_file exists only in the container
    # (the tests below hold it to the manifests' mounts instead).
    return subprocess.run(
        [str(promtool), "check", "config", "--syntax-only", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )


# --- promtool -------------------------------------------------------------------------------


def test_the_compose_config_passes_promtool(promtool):
    result = check(promtool, COMPOSE_CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr


def _has_kubernetes_discovery(promtool: Path, tmp_path: Path) -> bool:
    probe = tmp_path / "probe.yml"
    probe.write_text("scrape_configs:\n  - job_name: p\n    kubernetes_sd_configs: [{role: pod}]\n")
    return check(promtool, probe).returncode == 0


def test_the_k8s_config_passes_promtool(promtool, tmp_path):
    if not _has_kubernetes_discovery(promtool, tmp_path):
        pytest.skip(
            "this promtool was built without Kubernetes discovery (Debian's is): the k8s "
            "config is checked without its kubernetes_sd_configs by the test below"
        )
    result = check(promtool, K8S_CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_k8s_config_passes_promtool_apart_from_its_kubernetes_discovery(promtool, tmp_path):
    # Everything but the discovery block (relabelling, paths, authorisation, intervals) is
    # checked by any promtool; the block itself by the next tests and, where promtool has
    # Kubernetes discovery, by the test above.
    config = load(K8S_CONFIG)
    for scrape in config["scrape_configs"]:
        if scrape.pop("kubernetes_sd_configs", None) is not None:
            scrape["static_configs"] = [{"targets": []}]
    path = tmp_path / "prometheus.yml"
    YAML(typ="safe").dump(config, path)
    result = check(promtool, path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_refuses_a_broken_scrape_config(promtool, tmp_path):
    config = load(COMPOSE_CONFIG)
    job(config, "strangler-proxy")["relabel_configs"] = [{"regex": "(", "action": "keep"}]
    path = tmp_path / "prometheus.yml"
    YAML(typ="safe").dump(config, path)
    assert check(promtool, path).returncode != 0


def test_the_k8s_config_map_carries_the_shipped_config_word_for_word():
    config_map = MANIFESTS[("ConfigMap", "prometheus-config")]
    assert config_map["data"]["prometheus.yml"] == K8S_CONFIG.read_text(encoding="utf-8")


# --- what discovery finds on Kubernetes -----------------------------------------------------


def _relabel(labels: dict[str, str], rules: list[dict[str, Any]]) -> dict[str, str] | None:
    """Prometheus' relabelling (keep, drop, replace), enough of it for the rules we ship."""
    labels = dict(labels)
    for rule in rules:
        value = rule.get("separator", ";").join(labels.get(s, "") for s in rule["source_labels"])
        match = re.fullmatch(rule.get("regex", "(.*)"), value)
        action = rule.get("action", "replace")
        if action == "keep" and not match:
            return None
        if action == "drop" and match:
            return None
        if action == "replace" and match:
            # Prometheus writes a group as $1, Python's expand as \g<1>.
            template = re.sub(r"\$(\d+)", r"\\g<\1>", rule.get("replacement", "$1"))
            labels[rule["target_label"]] = match.expand(template)
    return labels


def _sanitise(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def _pod_targets(workload: str, pod: str, ip: str, phase: str = "Running") -> list[dict[str, str]]:
    """The targets role: pod discovers for one pod of a workload: one per container port."""
    doc = MANIFESTS[("Deployment", workload)]
    template = doc["spec"]["template"]
    meta = {
        "__meta_kubernetes_namespace": "strangler-demo",
        "__meta_kubernetes_pod_name": pod,
        "__meta_kubernetes_pod_phase": phase,
    }
    for key, value in template["metadata"].get("labels", {}).items():
        meta[f"__meta_kubernetes_pod_label_{_sanitise(key)}"] = value
    for key, value in template["metadata"].get("annotations", {}).items():
        meta[f"__meta_kubernetes_pod_annotation_{_sanitise(key)}"] = value
    out = []
    for container in template["spec"]["containers"]:
        for port in container.get("ports", []):
            out.append(
                {
                    **meta,
                    "__address__": f"{ip}:{port['containerPort']}",
                    "__meta_kubernetes_pod_container_name": container["name"],
                    "__meta_kubernetes_pod_container_port_name": port.get("name", ""),
                    "__meta_kubernetes_pod_container_port_number": str(port["containerPort"]),
                }
            )
    return out


def _selected(target: dict[str, str], sd: dict[str, Any]) -> bool:
    for selector in sd.get("selectors", []):
        # One term: "key=value" or the set form "key in (a,b)".
        found = re.fullmatch(r"(\S+?)(?:=(\S+)| in \((.*)\))", selector.get("label", ""))
        assert found, selector
        key, value, values = found.groups()
        allowed = {value} if value is not None else set(values.split(","))
        if target.get(f"__meta_kubernetes_pod_label_{_sanitise(key)}") not in allowed:
            return False
    return True


def _scraped(
    workload: str, pod: str, ip: str, phase: str = "Running", name: str = "strangler-proxy"
) -> list[dict[str, str]]:
    scrape = job(load(K8S_CONFIG), name)
    [sd] = scrape["kubernetes_sd_configs"]
    kept = []
    for target in _pod_targets(workload, pod, ip, phase):
        if not _selected(target, sd):
            continue
        labels = _relabel(target, scrape.get("relabel_configs", []))
        if labels is not None:
            kept.append({k: v for k, v in labels.items() if not k.startswith("__meta_")})
    return kept


def _admin_port() -> int:
    [container] = MANIFESTS[("Deployment", "proxy")]["spec"]["template"]["spec"]["containers"]
    [port] = [p["containerPort"] for p in container["ports"] if p["name"] == "admin"]
    return int(port)


def test_the_proxys_admin_port_is_the_one_it_listens_on():
    proxy = MANIFESTS[("Deployment", "proxy")]["spec"]["template"]["spec"]["containers"][0]
    set_here = {v["name"]: v.get("value") for v in proxy.get("env", [])}
    settings = MANIFESTS[("ConfigMap", "strangler-env")]["data"]
    listens = set_here.get("PROXY_ADMIN_PORT") or settings.get("PROXY_ADMIN_PORT")
    assert int(listens or ProxySettings().admin_port) == _admin_port()


def test_k8s_discovery_scrapes_each_proxy_pod_once_on_its_admin_port():
    targets = _scraped("proxy", "proxy-7d9f-abcde", "10.1.2.3")

    assert targets == [
        {
            "__address__": f"10.1.2.3:{_admin_port()}",
            "replica": "proxy-7d9f-abcde",
            "namespace": "strangler-demo",
        }
    ]
    assert job(load(K8S_CONFIG), "strangler-proxy")["metrics_path"] == "/metrics"


def test_k8s_discovery_labels_each_replica_as_the_store_names_it():
    # PROXY_REPLICA_ID is the pod's name (proxy.yaml): the scrape's "replica" label is too.
    [container] = MANIFESTS[("Deployment", "proxy")]["spec"]["template"]["spec"]["containers"]
    [replica_id] = [v for v in container["env"] if v["name"] == "PROXY_REPLICA_ID"]
    assert replica_id["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    [target] = _scraped("proxy", "proxy-1", "10.0.0.9")
    assert target["replica"] == "proxy-1"


@pytest.mark.parametrize("workload", ["monolith", "catalog", "strangler-cli", "monolith-worker"])
def test_k8s_discovery_leaves_other_pods_to_their_own_jobs(workload):
    assert _scraped(workload, f"{workload}-1", "10.0.0.5") == []


def test_k8s_discovery_drops_a_finished_proxy_pod():
    assert _scraped("proxy", "proxy-old", "10.0.0.6", phase="Failed") == []


def test_prometheus_may_list_and_watch_the_namespaces_pods():
    role = MANIFESTS[("Role", "prometheus")]
    assert {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]} in (
        role["rules"]
    )
    binding = MANIFESTS[("RoleBinding", "prometheus")]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "prometheus",
    }
    pod = MANIFESTS[("StatefulSet", "prometheus")]["spec"]["template"]["spec"]
    assert {"kind": "ServiceAccount", "name": pod["serviceAccountName"]} in binding["subjects"]
    # The Role is namespaced: discovery must not look beyond the namespace.
    [sd] = job(load(K8S_CONFIG), "strangler-proxy")["kubernetes_sd_configs"]
    assert sd["namespaces"] == {"own_namespace": True}


def test_k8s_prometheus_reads_the_config_map_it_is_given():
    pod = MANIFESTS[("StatefulSet", "prometheus")]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    [config_file] = [
        a.split("=", 1)[1] for a in container["args"] if a.startswith("--config.file=")
    ]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    directory, name = config_file.rsplit("/", 1)
    assert volumes[mounts[directory]]["configMap"]["name"] == "prometheus-config"
    assert name in MANIFESTS[("ConfigMap", "prometheus-config")]["data"]


# --- the sync's figures ---------------------------------------------------------------------


def test_k8s_sync_scrape_reads_the_token_file_mounted_from_the_operators_secret():
    scrape = job(load(K8S_CONFIG), "strangler-sync")
    token = scrape["authorization"]["credentials_file"]
    pod = MANIFESTS[("StatefulSet", "prometheus")]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    directory, name = token.rsplit("/", 1)
    [mount] = [m for m in container["volumeMounts"] if m["mountPath"] == directory]
    [volume] = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    assert volume["secret"]["secretName"] == "strangler-secrets"
    assert {"key": "STRANGLER_SYNC_METRICS_TOKEN", "path": name} in volume["secret"]["items"]


def test_k8s_sync_scrape_names_each_projects_service_and_port():
    scrape = job(load(K8S_CONFIG), "strangler-sync")
    assert scrape["metrics_path"] == "/internal/sync/metrics"
    [static] = scrape["static_configs"]
    for target in static["targets"]:
        host, port = target.split(":")
        service = MANIFESTS[("Service", host)]
        assert int(port) in [p["port"] for p in service["spec"]["ports"]], target
    assert {t.split(":")[0] for t in static["targets"]} == {"monolith", "catalog"}


# --- the Django projects' request metrics ---------------------------------------------------


@pytest.mark.parametrize("config", [COMPOSE_CONFIG, K8S_CONFIG], ids=["compose", "k8s"])
def test_the_django_scrape_reads_internal_metrics_with_the_sync_scrapes_token(config):
    # /internal/: the proxy never forwards it; the token: strangler.servicekit.request_metrics.
    django, sync = job(load(config), "strangler-django"), job(load(config), "strangler-sync")
    assert django["metrics_path"] == "/internal/metrics"
    assert django["authorization"] == sync["authorization"]


@pytest.mark.parametrize(("workload", "port"), [("monolith", 8100), ("catalog", 8200)])
def test_k8s_discovery_scrapes_each_django_pod_on_its_web_port(workload, port):
    targets = _scraped(workload, f"{workload}-abc", "10.1.2.4", name="strangler-django")

    assert targets == [
        {
            "__address__": f"10.1.2.4:{port}",
            "project": workload,
            "pod": f"{workload}-abc",
            "namespace": "strangler-demo",
        }
    ]


@pytest.mark.parametrize("workload", ["proxy", "strangler-cli", "monolith-worker"])
def test_k8s_django_discovery_leaves_other_pods_alone(workload):
    assert _scraped(workload, f"{workload}-1", "10.0.0.5", name="strangler-django") == []


@pytest.mark.parametrize("workload", ["monolith", "catalog"])
def test_each_django_pod_accepts_its_own_address_as_a_host(workload):
    # Prometheus sends the pod's address as Host: Django answers 400 to a host it does not list.
    [web] = MANIFESTS[("Deployment", workload)]["spec"]["template"]["spec"]["containers"]
    env = {v["name"]: v for v in web["env"]}
    assert env["POD_IP"]["valueFrom"] == {"fieldRef": {"fieldPath": "status.podIP"}}
    names = [v["name"] for v in web["env"]]
    assert names.index("POD_IP") < names.index("DJANGO_ALLOWED_HOSTS")  # expanded in order
    assert env["DJANGO_ALLOWED_HOSTS"]["value"] == "$(DJANGO_ALLOWED_HOSTS),$(POD_IP)"
    assert {"configMapRef": {"name": "strangler-env"}} in web["envFrom"]


# --- Compose --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load(REPO / "docker-compose.yml")


def test_compose_discovery_asks_for_every_container_of_the_proxy_service(compose):
    [sd] = job(load(COMPOSE_CONFIG), "strangler-proxy")["dns_sd_configs"]
    # Compose's DNS answers a service's name with an A record per container.
    assert sd["type"] == "A"
    assert sd["names"] == ["proxy"]
    assert "proxy" in compose["services"]
    environment = compose["services"]["proxy"]["environment"]
    listens = environment.get("PROXY_ADMIN_PORT") or ProxySettings().admin_port
    assert sd["port"] == int(listens)
    assert job(load(COMPOSE_CONFIG), "strangler-proxy")["metrics_path"] == "/metrics"


def test_compose_prometheus_reads_the_config_and_the_token_it_is_given(compose):
    service = compose["services"]["prometheus"]
    # The image's default --config.file.
    assert (
        f"./{COMPOSE_CONFIG.relative_to(REPO)}:/etc/prometheus/prometheus.yml:ro"
        in service["volumes"]
    )
    token = job(load(COMPOSE_CONFIG), "strangler-sync")["authorization"]["credentials_file"]
    [secret] = service["secrets"]
    assert token == f"/run/secrets/{secret}"
    assert compose["secrets"][secret] == {"environment": "STRANGLER_SYNC_METRICS_TOKEN"}


def test_compose_sync_scrape_names_each_projects_service_and_port(compose):
    [static] = job(load(COMPOSE_CONFIG), "strangler-sync")["static_configs"]
    for target in static["targets"]:
        host, port = target.split(":")
        assert f"0.0.0.0:{port}" in compose["services"][host]["command"], target


def test_compose_django_scrape_names_each_project_by_its_service_and_port(compose):
    statics = job(load(COMPOSE_CONFIG), "strangler-django")["static_configs"]
    projects = {}
    for static in statics:
        [target] = static["targets"]
        host, port = target.split(":")
        assert f"0.0.0.0:{port}" in compose["services"][host]["command"], target
        projects[static["labels"]["project"]] = host
    assert projects == {"monolith": "monolith", "catalog": "catalog"}
