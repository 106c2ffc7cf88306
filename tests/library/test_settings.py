"""The library's settings, read in a process of their own (this one has them loaded)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.library.conftest import PROJECT

_PRINT = "import json, library.settings as s; print(json.dumps([s.SECRET_KEY, s.DATABASES]))"


def _settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LIBRARY_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "-c", _PRINT],
        env={**clean, **env},
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_without_a_secret_key_the_library_refuses_to_start() -> None:
    completed = _settings()

    assert completed.returncode == 1
    assert completed.stderr == (
        "library: set LIBRARY_SECRET_KEY (or LIBRARY_DEMO=1 for the demo's key)\n"
    )


def test_the_secret_key_and_the_database_come_from_the_environment(tmp_path) -> None:
    given = _settings(
        LIBRARY_SECRET_KEY="k" * 50, DATABASE_URL="postgres://lib:p%40ss@db.local:5433/library"
    )
    default = _settings(LIBRARY_DEMO="1", LIBRARY_VAR_DIR=str(tmp_path))

    key, databases = json.loads(given.stdout)
    assert key == "k" * 50
    assert databases["default"] == {
        "ENGINE": "django.db.backends.postgresql", "NAME": "library", "USER": "lib",
        "PASSWORD": "p@ss", "HOST": "db.local", "PORT": "5433",
    }  # fmt: skip
    _, databases = json.loads(default.stdout)
    assert databases["default"] == {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(tmp_path / "library.sqlite3"),
    }


@pytest.mark.parametrize("url", ["mysql://root@localhost/library", "library.db"])
def test_a_database_url_it_cannot_use_is_refused_by_name(url) -> None:
    completed = _settings(LIBRARY_DEMO="1", DATABASE_URL=url)

    assert completed.returncode == 1
    assert completed.stderr.startswith("library: DATABASE_URL must be sqlite:/// or postgres://")
    assert "Traceback" not in completed.stderr
