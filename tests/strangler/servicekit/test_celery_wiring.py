"""``strangler.servicekit.celery_wiring``: the CELERY_* settings a project with the sync needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from strangler.servicekit.celery_wiring import (
    TASK_TIME_LIMIT_SECONDS,
    celery_app,
    sync_celery_settings,
)
from strangler.servicekit.file_broker import TRANSPORT_PATH
from strangler.sync.schedule import BROKER_VISIBILITY_TIMEOUT_SECONDS


def test_without_a_broker_url_the_embedded_broker_carries_the_sync(tmp_path: Path) -> None:
    settings = sync_celery_settings(env={}, var_dir=tmp_path, queue="shop")

    assert settings["CELERY_BROKER_URL"].startswith("filesystem://")
    assert settings["CELERY_BROKER_TRANSPORT"] == TRANSPORT_PATH
    assert (tmp_path / "broker" / "queue").is_dir()
    assert settings["CELERY_TASK_DEFAULT_QUEUE"] == "shop"
    assert set(settings["CELERY_BEAT_SCHEDULE"]) == {
        "strangler_sync.relay", "strangler_sync.heartbeat", "strangler_sync.prune",
    }  # fmt: skip


def test_a_broker_url_is_taken_with_the_syncs_visibility_timeout(tmp_path: Path) -> None:
    settings = sync_celery_settings(
        env={"CELERY_BROKER_URL": "redis://127.0.0.1:6379/3"}, var_dir=tmp_path, queue="shop"
    )

    assert settings["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/3"
    assert settings["CELERY_BROKER_TRANSPORT"] is None
    options = settings["CELERY_BROKER_TRANSPORT_OPTIONS"]
    assert options["visibility_timeout"] == BROKER_VISIBILITY_TIMEOUT_SECONDS
    assert (
        settings["CELERY_TASK_TIME_LIMIT"]
        == TASK_TIME_LIMIT_SECONDS
        < options["visibility_timeout"]
    )
    assert settings["CELERY_TASK_ACKS_LATE"] is True


def test_the_beat_runs_the_sync_as_often_as_asked(tmp_path: Path) -> None:
    settings = sync_celery_settings(
        env={}, var_dir=tmp_path, queue="shop", relay_every=2.0, heartbeat_every=3.0
    )

    schedule = settings["CELERY_BEAT_SCHEDULE"]
    assert schedule["strangler_sync.relay"]["schedule"] == 2.0
    assert schedule["strangler_sync.heartbeat"]["schedule"] == 3.0


def test_the_app_reads_the_projects_celery_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # Set here so that it is unset again afterwards (celery_app only sets a default).
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "monolith.settings")

    app = celery_app("monolith", "monolith.settings")

    assert app.main == "monolith"
    assert app.conf.task_default_queue == "monolith"
