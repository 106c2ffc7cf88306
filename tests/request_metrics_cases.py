"""A Django project's request metrics (django-prometheus) at ``/internal/metrics``: for the
bearer of the metrics token only, counting the requests every view answered. The same cases
for every project that wires strangler.servicekit.request_metrics: each project's suite
imports them and runs them under its own settings."""

from __future__ import annotations

import re

import pytest
from django.conf import settings as django_settings
from django.test import Client

TOKEN = "insecure-demo-sync-metrics-token"  # STRANGLER_DEMO=1: the published demo value


def _count(text: str, series: str) -> float:
    match = re.search(rf"^{re.escape(series)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_the_metrics_middleware_wraps_every_other_one() -> None:
    middleware = django_settings.MIDDLEWARE
    assert middleware[0] == "django_prometheus.middleware.PrometheusBeforeMiddleware"
    assert middleware[-1] == "django_prometheus.middleware.PrometheusAfterMiddleware"
    assert django_settings.STRANGLER_METRICS_TOKEN == TOKEN


@pytest.mark.django_db
def test_the_bearer_of_the_token_reads_each_views_requests() -> None:
    client = Client(headers={"Authorization": f"Bearer {TOKEN}"})
    series = (
        "django_http_responses_total_by_status_view_method_total"
        '{method="GET",status="200",view="healthz"}'
    )
    before = _count(client.get("/internal/metrics").content.decode(), series)
    for _ in range(3):
        assert Client().get("/healthz").status_code == 200

    response = client.get("/internal/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert _count(response.content.decode(), series) == before + 3
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize(
    ("authorization", "code"),
    [(None, "no_token"), ("Token " + TOKEN, "no_token"), ("Bearer wrong", "bad_token")],
)
def test_anyone_else_is_refused_and_told_what_to_send(authorization, code) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = Client(headers=headers).get("/internal/metrics")

    assert response.status_code == 401
    assert response.json()["code"] == code
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"django_http" not in response.content


def test_without_a_token_configured_no_one_reads_them(settings) -> None:
    settings.STRANGLER_METRICS_TOKEN = ""
    response = Client(headers={"Authorization": "Bearer "}).get("/internal/metrics")
    assert response.status_code == 401
    response = Client(headers={"Authorization": f"Bearer {TOKEN}"}).get("/internal/metrics")
    assert response.status_code == 401
    assert response.json() == {
        "code": "metrics_off",
        "message": "Metrics are off: STRANGLER_SYNC_METRICS_TOKEN is not set.",
    }
