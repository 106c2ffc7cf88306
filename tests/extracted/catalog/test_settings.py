"""The service's settings, as a fresh process reads them from its environment."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from strangler.sync.schedule import BROKER_VISIBILITY_TIMEOUT_SECONDS
from tests.extracted.catalog.processes import project_env
from tests.monolith.processes import PYTHON

_PRINT_DATABASE = (
    "import json; from django.conf import settings; "
    "print(json.dumps(settings.DATABASES['default'], default=str))"
)
_PRINT_CELERY = (
    "import json; from django.conf import settings; print(json.dumps(["
    "settings.CELERY_BROKER_URL, settings.CELERY_BROKER_TRANSPORT_OPTIONS]))"
)


def _settings(tmp_path: Path, program: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``program`` in a fresh process whose environment is ``env`` and nothing of ours."""
    child = project_env(
        var_dir=tmp_path, DJANGO_SETTINGS_MODULE="extracted.catalog.settings", **env
    )
    child.pop("CELERY_BROKER_URL", None)
    child.update(env)
    return subprocess.run(
        [PYTHON, "-c", program], env=child, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip


def _database(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return _settings(tmp_path, _PRINT_DATABASE, **env)


def test_the_default_database_is_sqlite_under_the_var_directory(tmp_path: Path) -> None:
    database = json.loads(_database(tmp_path).stdout)

    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(tmp_path / "catalog.sqlite3")


def test_sqlite_takes_the_write_lock_up_front_with_wal_and_a_busy_timeout(tmp_path: Path) -> None:
    options = json.loads(_database(tmp_path).stdout)["OPTIONS"]

    assert options["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in options["init_command"]
    assert options["timeout"] > 0


def test_the_test_database_is_named_by_process(tmp_path: Path) -> None:
    test_name = json.loads(_database(tmp_path).stdout)["TEST"]["NAME"]

    assert Path(test_name).parent == tmp_path
    assert Path(test_name).name.startswith("test_catalog_")


def test_catalog_database_url_selects_postgresql(tmp_path: Path) -> None:
    url = "postgres://postgres@127.0.0.1:5432/catalog"

    database = json.loads(_database(tmp_path, CATALOG_DATABASE_URL=url).stdout)

    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["NAME"]) == ("127.0.0.1", "catalog")
    assert database["TEST"]["NAME"].startswith("test_catalog_")


def test_the_monoliths_database_url_is_not_the_services(tmp_path: Path) -> None:
    url = "postgres://postgres@127.0.0.1:5432/monolith"

    database = json.loads(_database(tmp_path, DATABASE_URL=url).stdout)

    assert database["ENGINE"] == "django.db.backends.sqlite3"


def test_an_unusable_database_url_stops_start_up_naming_the_variable(tmp_path: Path) -> None:
    done = _database(tmp_path, CATALOG_DATABASE_URL="nonsense://user:secret@db/catalog")

    assert done.returncode != 0
    assert "CATALOG_DATABASE_URL has the scheme 'nonsense'" in done.stderr
    assert "secret" not in done.stderr


def test_the_embedded_broker_spools_under_the_services_own_var_directory(tmp_path: Path) -> None:
    broker, options = json.loads(_settings(tmp_path, _PRINT_CELERY).stdout)

    assert broker == "filesystem://"
    assert Path(options["data_folder_in"]).is_relative_to(tmp_path / "celery" / "catalog")


def test_celery_broker_url_selects_a_broker_server(tmp_path: Path) -> None:
    url = "redis://127.0.0.1:6379/9"

    broker, options = json.loads(_settings(tmp_path, _PRINT_CELERY, CELERY_BROKER_URL=url).stdout)

    # The sync's tasks may run long: the broker waits longer than they can before redelivering.
    assert (broker, options) == (url, {"visibility_timeout": BROKER_VISIBILITY_TIMEOUT_SECONDS})
