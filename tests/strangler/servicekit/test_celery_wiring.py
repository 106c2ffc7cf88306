"""``strangler.servicekit.celery_wiring``: the CELERY_* settings a project with the sync needs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from strangler.servicekit.celery_wiring import (
    TASK_TIME_LIMIT_SECONDS,
    sync_celery_settings,
)
from strangler.servicekit.file_broker import TRANSPORT_PATH
from strangler.sync.schedule import BROKER_VISIBILITY_TIMEOUT_SECONDS

REPO = Path(__file__).resolve().parents[3]


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


def test_the_app_reads_the_projects_celery_settings() -> None:
    # A process of its own: the app configures Django from the settings module it is given.
    probe = (
        "from strangler.servicekit.celery_wiring import celery_app; "
        "app = celery_app('wiring', 'tests.strangler.servicekit.wiring_settings'); "
        "print(app.main, app.conf.task_default_queue, app.conf.task_acks_late)"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}

    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True,
        check=False, timeout=60,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["wiring", "wiring", "True"]
