"""deploy/prometheus/rules.yml: alerts promtool accepts, each shown firing and staying quiet by
rules.test.yml, over series the code exposes, and read by Prometheus in Compose and on
Kubernetes.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.deploy.promql import OUR_METRIC, check_expressions, exposed_metric_names

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "deploy" / "prometheus"
RULES = CONFIGS / "rules.yml"
RULES_TEST = CONFIGS / "rules.test.yml"
K8S_PROMETHEUS = REPO / "deploy" / "k8s" / "prometheus.yaml"

# What each alert is about (issue 17's list): renaming or dropping one fails here.
EXPECTED_ALERTS = {
    "StranglerSyncLagging",
    "StranglerSyncStreamStopped",
    "StranglerDeadLettersParked",
    "StranglerShadowDifferenceRate",
    "StranglerFallbackRate",
    "StranglerBreakerOpen",
    "StranglerHoldOutlivedItsBound",
    "StranglerHoldExpired",
    "StranglerStoreUnreachable",
    "StranglerTableVersionBehind",
    "StranglerDjangoServerErrors",  # the projects' own answers (django-prometheus)
}


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def alerts() -> list[dict[str, Any]]:
    return [rule for group in load(RULES)["groups"] for rule in group["rules"]]


def promtool_run(promtool: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(promtool), *args], capture_output=True, text=True, timeout=120, check=False
    )


# --- promtool -------------------------------------------------------------------------------


def test_the_rules_pass_promtool(promtool):
    result = promtool_run(promtool, "check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(EXPECTED_ALERTS)} rules found" in result.stdout


def test_promtool_refuses_a_rule_that_does_not_parse(promtool, tmp_path):
    rules = load(RULES)
    rules["groups"][0]["rules"][0]["expr"] = "max by (peer (strangler_sync_lag_seconds) > 30"
    path = tmp_path / "rules.yml"
    YAML(typ="safe").dump(rules, path)
    assert promtool_run(promtool, "check", "rules", str(path)).returncode != 0


def test_every_alert_fires_and_stays_quiet_as_its_tests_say(promtool):
    result = promtool_run(promtool, "test", "rules", str(RULES_TEST))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize(
    ("alert", "before", "after"),
    [
        # A threshold moved: the stream 45 s behind no longer fires.
        ("StranglerSyncLagging", "> 30", "> 60"),
        # candidate_error no longer counted as a difference: the reviews route stays quiet.
        (
            "StranglerShadowDifferenceRate",
            'outcome=~"mismatch|candidate_error"',
            'outcome="mismatch"',
        ),
        # Compared with the fleet's lowest version instead of its highest: never fires.
        ("StranglerTableVersionBehind", "max without", "min without"),
    ],
)
def test_the_rules_tests_refuse_an_alert_that_behaves_otherwise(
    promtool, tmp_path, alert, before, after
):
    rules = load(RULES)
    [rule] = [r for g in rules["groups"] for r in g["rules"] if r["alert"] == alert]
    assert before in rule["expr"]
    rule["expr"] = rule["expr"].replace(before, after)
    YAML(typ="safe").dump(rules, tmp_path / "rules.yml")
    shutil.copy(RULES_TEST, tmp_path / "rules.test.yml")

    result = promtool_run(promtool, "test", "rules", str(tmp_path / "rules.test.yml"))

    assert result.returncode != 0
    assert f"alertname: {alert}" in result.stdout + result.stderr


# --- what the rules say ---------------------------------------------------------------------


def test_the_rules_are_the_expected_alerts():
    assert {rule["alert"] for rule in alerts()} == EXPECTED_ALERTS


@pytest.mark.parametrize("rule", alerts(), ids=lambda rule: rule["alert"])
def test_every_alert_waits_has_a_severity_and_says_what_to_do(rule):
    assert "for" in rule
    assert rule["labels"]["severity"] in ("warning", "critical")
    assert rule["annotations"]["summary"]
    # "what to do": each description names a command or a place to look.
    assert "`" in rule["annotations"]["description"]


def test_every_alert_is_tested_firing_and_quiet():
    fired: set[str] = set()
    quiet: set[str] = set()
    for case in load(RULES_TEST)["tests"]:
        for check in case["alert_rule_test"]:
            (fired if check["exp_alerts"] else quiet).add(check["alertname"])
    assert fired == EXPECTED_ALERTS
    assert quiet == EXPECTED_ALERTS


def test_the_rules_tests_read_the_shipped_rules():
    assert load(RULES_TEST)["rule_files"] == [RULES.name]


def test_every_series_an_alert_reads_is_one_the_code_exposes():
    exposed = exposed_metric_names(REPO)
    for rule in alerts():
        used = set(OUR_METRIC.findall(rule["expr"]))
        assert used, rule["alert"]
        assert used <= exposed, (rule["alert"], used - exposed)


def test_the_code_defines_the_metrics_the_check_above_reads():
    # The check above reads the definitions with a pattern: it must find them all.
    exposed = exposed_metric_names(REPO)
    assert {
        "strangler_proxy_requests_total",
        "strangler_proxy_request_duration_seconds_bucket",
        "strangler_proxy_store_up",
        "strangler_sync_lag_seconds",
        "strangler_sync_applied_rows_total",
    } <= exposed
    assert "strangler_proxy_requests" not in exposed
    # django-prometheus' (its installed middleware's definitions)
    assert {
        "django_http_responses_total_by_status_total",
        "django_http_requests_latency_including_middlewares_seconds_bucket",
    } <= exposed


def test_a_renamed_metric_is_caught():
    # What the check above does with a rule reading a name the code does not define.
    exposed = exposed_metric_names(REPO)
    assert set(OUR_METRIC.findall("rate(strangler_proxy_fallback_total[5m])")) - exposed


def test_promtool_parses_each_expression_alone(promtool, tmp_path):
    result = check_expressions(promtool, {r["alert"]: r["expr"] for r in alerts()}, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


# --- wired into Prometheus ------------------------------------------------------------------


@pytest.mark.parametrize("config", ["prometheus.compose.yml", "prometheus.k8s.yml"])
def test_each_prometheus_config_reads_the_rules_beside_it(config):
    assert load(CONFIGS / config)["rule_files"] == [RULES.name]


def test_compose_mounts_the_rules_beside_the_config():
    service = load(REPO / "docker-compose.yml")["services"]["prometheus"]
    config = "./deploy/prometheus/prometheus.compose.yml:/etc/prometheus/prometheus.yml:ro"
    assert config in service["volumes"]
    assert f"./{RULES.relative_to(REPO)}:/etc/prometheus/{RULES.name}:ro" in service["volumes"]


def test_the_k8s_config_map_carries_the_shipped_rules_word_for_word():
    docs = YAML(typ="safe").load_all(K8S_PROMETHEUS.read_text(encoding="utf-8"))
    [config_map] = [d for d in docs if d["kind"] == "ConfigMap"]
    # Beside prometheus.yml in the one directory the StatefulSet mounts (test_prometheus).
    assert "prometheus.yml" in config_map["data"]
    assert config_map["data"][RULES.name] == RULES.read_text(encoding="utf-8")
