"""The least Django settings module a project with the sync's Celery wiring has (for
``test_celery_wiring``: the toolkit alone, no example project)."""

from pathlib import Path

from strangler.servicekit.celery_wiring import sync_celery_settings

SECRET_KEY = "celery-wiring-test-settings-not-a-secret-0123456789"
INSTALLED_APPS: list[str] = []
USE_TZ = True

globals().update(
    sync_celery_settings(
        env={},
        var_dir=Path(__file__).resolve().parents[3] / "var" / "celery-wiring-test",
        queue="wiring",
    )
)
