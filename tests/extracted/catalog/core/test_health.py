"""``/healthz`` and ``/readyz`` answer as every service of the migration does."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test import Client


@pytest.mark.django_db
def test_healthz_answers_while_the_process_runs() -> None:
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_the_database_reachable() -> None:
    response = Client().get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database:default": "ok"}}


@pytest.mark.django_db
def test_readyz_is_503_when_the_database_does_not_answer() -> None:
    connection = connections["default"]
    real = connection.settings_dict.copy()
    connection.close()
    try:
        if connection.vendor == "sqlite":
            connection.settings_dict["NAME"] = "/nonexistent-dir/db.sqlite3"
        else:
            connection.settings_dict["PORT"] = "1"
        response = Client().get("/readyz")
    finally:
        connection.close()
        connection.settings_dict.update(real)

    assert response.status_code == 503
    assert response.json()["checks"] == {"database:default": "unavailable"}
