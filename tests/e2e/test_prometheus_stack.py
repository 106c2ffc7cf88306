"""Debian's ``prometheus`` scraping the real demo stack with the shipped scrape config: every
alert of deploy/prometheus/rules.yml and every Grafana panel query evaluates without error,
over series that are really there.

The stack is ``strangler up`` on free ports (tests/e2e/conftest.py): the proxy, the monolith
and the catalog service under gunicorn, their Celery workers and beats (so the sync's streams
have figures). Prometheus gets deploy/prometheus/prometheus.compose.yml with each job's
discovery replaced by the stack's local addresses and the token file by one written here:
metrics paths, authorisation and labels are the shipped ones. A misspelled series name is
no error in PromQL, just an empty answer, so every name the rules and panels read must also
be among the scraped ones, bar those listed in ``ABSENT_UNTIL_AN_EVENT`` with the reason.

Where ``prometheus`` is not installed the Prometheus test skips, saying so, unless
``STRANGLER_REQUIRE_PROMETHEUS=1`` (set by ``.ci/run``), where it fails.
"""

from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from ruamel.yaml import YAML

from tests.deploy.promql import OUR_METRIC
from tests.deploy.test_grafana import queries as panel_queries
from tests.e2e.conftest import Stack, wait_until
from tests.monolith.processes import free_port, running, url_answers

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "deploy" / "prometheus"
# STRANGLER_DEMO=1 (the stack's): the published demo value of STRANGLER_SYNC_METRICS_TOKEN.
METRICS_TOKEN = "insecure-demo-sync-metrics-token"
# Prometheus starts in a second or two; the scrapes are 1 s apart. A minute is many.
SCRAPE_DEADLINE_SECONDS = 60.0
HTTP_TIMEOUT_SECONDS = 10
# Series a healthy, idle demo stack does not have yet: each appears with its event. The
# names are still held to the code's definitions (tests/deploy), here only their presence
# is excused.
ABSENT_UNTIL_AN_EVENT = {
    "strangler_proxy_fallbacks_total": "labelled by route: none until a service fails a "
    "request the monolith then answers",
    "strangler_proxy_shadow_total": "labelled by route and outcome: none until a route runs "
    "in shadow mode (the demo table has none)",
    "strangler_proxy_held_total": "labelled by outcome: none until a write is held for a "
    "write-owner switch",
    "strangler_proxy_upstream_errors_total": "labelled by kind: none until an upstream fails",
    "strangler_proxy_endpoint_ejections_total": "none until an endpoint is ejected",
    "strangler_proxy_store_up": "a fleet member's, only with a shared control store "
    "(STRANGLER_STORE_URL); the demo proxy reads routes.yaml",
    "strangler_proxy_table_version": "a fleet member's, only with a shared control store",
    "strangler_proxy_holds_version": "a fleet member's, only with a shared control store",
    "strangler_proxy_held_requests": "labelled by route: none until a route holds writes "
    "(a write-owner switch)",
    "strangler_sync_reconcile_rows": "none until a reconcile has run",
    "strangler_sync_reconcile_age_seconds": "none until a reconcile has run",
    "strangler_sync_dead_letters_parked": "one series per source with a parked change: none "
    "while nothing failed to apply",
    "django_http_exceptions_total_by_type_total": "none until a view raises",
}

pytestmark = pytest.mark.e2e


def _prometheus_binary() -> str:
    found = shutil.which("prometheus")
    if found is None:
        reason = "prometheus is not installed (apt-get install prometheus): NOT CHECKED"
        if os.environ.get("STRANGLER_REQUIRE_PROMETHEUS") == "1":
            pytest.fail(reason + " (STRANGLER_REQUIRE_PROMETHEUS=1: not skipped)")
        pytest.skip(reason)
    return found


def _load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def _local_config(stack: Stack, token_file: Path) -> dict[str, Any]:
    """The shipped Compose config, its targets the stack's: Compose's service names and
    ports become the stack's local addresses; intervals short enough for a test."""
    ports = stack.session.ports
    local = {
        "proxy:8001": f"127.0.0.1:{ports['PROXY_ADMIN_PORT']}",
        "monolith:8100": f"127.0.0.1:{ports['MONOLITH_PORT']}",
        "catalog:8200": f"127.0.0.1:{ports['CATALOG_PORT']}",
    }
    config = copy.deepcopy(_load(CONFIGS / "prometheus.compose.yml"))
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    for job in config["scrape_configs"]:
        job["scrape_timeout"] = "1s"
        for static in job.get("static_configs", []):
            static["targets"] = [local[target] for target in static["targets"]]
        for sd in job.pop("dns_sd_configs", []):
            job.setdefault("static_configs", []).extend(
                {"targets": [local[f"{name}:{sd['port']}"]]} for name in sd["names"]
            )
        if "authorization" in job:
            job["authorization"]["credentials_file"] = str(token_file)
    return config


@pytest.fixture(scope="module")
def prometheus(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = _prometheus_binary()
    directory = tmp_path_factory.mktemp("prometheus")
    token_file = directory / "metrics-token"
    token_file.write_text(METRICS_TOKEN, encoding="utf-8")
    # rule_files names rules.yml beside the config, as in the container.
    shutil.copy(CONFIGS / "rules.yml", directory / "rules.yml")
    config = directory / "prometheus.yml"
    YAML(typ="safe").dump(_local_config(stack, token_file), config)
    url = f"http://127.0.0.1:{free_port()}"
    args = [binary, f"--config.file={config}", f"--storage.tsdb.path={directory / 'tsdb'}",
            f"--web.listen-address={urlsplit(url).netloc}"]  # fmt: skip
    with running(args, env=dict(os.environ), log=directory / "prometheus.log",
                 ready=url_answers(f"{url}/-/ready")):  # fmt: skip
        yield url


def _api(prometheus: str, path: str, **params: str) -> Any:
    response = requests.get(f"{prometheus}/api/v1/{path}", params=params, timeout=10)
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "success", body
    return body["data"]


def _query(prometheus: str, expr: str) -> dict[str, Any]:
    """Prometheus' whole answer (errors included) to an instant query."""
    response = requests.get(
        f"{prometheus}/api/v1/query", params={"query": expr}, timeout=HTTP_TIMEOUT_SECONDS
    )
    answer: dict[str, Any] = response.json()
    answer["http_status"] = response.status_code
    return answer


def _alert_expressions() -> dict[str, str]:
    return {
        rule["alert"]: rule["expr"]
        for group in _load(CONFIGS / "rules.yml")["groups"]
        for rule in group["rules"]
    }


def _expressions() -> dict[str, str]:
    alerts = {f"alert {name}": expr for name, expr in _alert_expressions().items()}
    panels = {f"panel {key}": expr for key, expr in panel_queries().items()}
    return alerts | panels


def _traffic(stack: Stack) -> None:
    """Pages and API calls through the proxy, a 404 among them: no server error."""
    for path in ("/", "/api/v1/products/", "/api/v1/categories/", "/no-such-page/"):
        response = stack.get(f"{stack.proxy}{path}")
        assert response.status_code < 500, (path, response.status_code)


# --- /internal/metrics is not public ----------------------------------------------------------


@pytest.mark.parametrize("authorization", [None, f"Bearer {METRICS_TOKEN}"])
def test_the_proxy_never_serves_the_projects_metrics(stack, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    for path in ("/internal/metrics", "/internal/sync/metrics", "/INTERNAL/metrics"):
        response = requests.get(
            f"{stack.proxy}{path}", headers=headers, timeout=HTTP_TIMEOUT_SECONDS
        )
        assert response.status_code == 404, (path, response.status_code)
        assert "django_http" not in response.text
    # And the catch-all upstream has no public /metrics either.
    response = requests.get(f"{stack.proxy}/metrics", timeout=HTTP_TIMEOUT_SECONDS)
    assert response.status_code == 404
    assert "django_http" not in response.text


def test_each_project_serves_its_metrics_to_the_bearer_of_the_token_only(stack):
    for base in (stack.monolith, stack.catalog):
        refused = requests.get(f"{base}/internal/metrics", timeout=HTTP_TIMEOUT_SECONDS)
        assert refused.status_code == 401
        served = requests.get(
            f"{base}/internal/metrics",
            headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
            timeout=HTTP_TIMEOUT_SECONDS,
        )
        assert served.status_code == 200
        assert "django_http_responses_total_by_status_total" in served.text


# --- Prometheus over the stack --------------------------------------------------------------


def test_every_alert_and_panel_evaluates_over_series_the_stack_exposes(stack, prometheus):
    _traffic(stack)
    expressions = _expressions()
    read = {name for expr in expressions.values() for name in OUR_METRIC.findall(expr)}
    assert ABSENT_UNTIL_AN_EVENT.keys() <= read, "an excused name no rule or panel reads"
    required = read - ABSENT_UNTIL_AN_EVENT.keys()

    def targets() -> list[dict[str, Any]]:
        return list(_api(prometheus, "targets")["activeTargets"])

    up = wait_until(
        "every target scraped and up",
        targets,
        lambda found: bool(found) and all(t["health"] == "up" for t in found),
        deadline_seconds=SCRAPE_DEADLINE_SECONDS,
    )
    assert {t["labels"]["job"] for t in up} == {
        "strangler-proxy",
        "strangler-sync",
        "strangler-django",
    }
    assert {t["labels"].get("project") for t in up if t["labels"]["job"] == "strangler-django"} == {
        "monolith",
        "catalog",
    }
    # The traffic above reaches the series with the next scrape.
    missing = wait_until(
        "every series the rules and panels read (the names below are missing)",
        lambda: sorted(required - set(_api(prometheus, "label/__name__/values"))),
        lambda names: not names,
        deadline_seconds=SCRAPE_DEADLINE_SECONDS,
    )
    assert missing == []

    # A rate needs two samples after the traffic: the request panels show it within a few
    # scrapes.
    for key in (
        "panel Request rate per route and upstream A",
        "panel Responses per second by status, per project A",
    ):
        wait_until(
            f"{key} shows the traffic",
            lambda key=key: _query(prometheus, expressions[key]).get("data", {}).get("result"),
            deadline_seconds=SCRAPE_DEADLINE_SECONDS,
        )
    answers = {key: _query(prometheus, expr) for key, expr in expressions.items()}
    errors = {
        key: answer
        for key, answer in answers.items()
        if answer["http_status"] != 200
        or answer.get("status") != "success"
        or answer.get("warnings")
    }
    assert not errors, errors


def test_prometheus_loads_every_alert_and_evaluates_it_without_error(stack, prometheus):
    expected = set(_alert_expressions())

    def rules() -> list[dict[str, Any]]:
        groups = _api(prometheus, "rules")["groups"]
        return [rule for group in groups for rule in group["rules"]]

    evaluated = wait_until(
        "every alert evaluated",
        rules,
        lambda found: (
            {r["name"] for r in found} == expected
            and all(
                r.get("lastEvaluation", "").startswith("2") and r["health"] != "unknown"
                for r in found
            )
        ),
        deadline_seconds=SCRAPE_DEADLINE_SECONDS,
    )
    assert {r["name"]: r["health"] for r in evaluated} == dict.fromkeys(expected, "ok"), [
        (r["name"], r.get("lastError")) for r in evaluated if r["health"] != "ok"
    ]
