"""``strangler extract`` on real projects, as real processes.

The storefront's catalog becomes a service in a temporary directory: the generated project
passes ``check`` and ``migrate``, gets the monolith's rows through the toolkit's own sync
backfill (``python -m monolith sync_backfill``, the plan's backfill step), and its GENERATED
contract suite passes against the running monolith and the running service, with no hand
edit. The checklist's one edit for the storefront, merging ``MONOLITH_SYNC.py`` into the
monolith's ``STRANGLER_SYNC``, is already made there: the service is named ``catalog``, the
peer the monolith's settings already have (``CATALOG_URL``), with the same tables going out.

A small UUID-keyed monolith (``uuid_library``: books by authors of another app) checks the
models and migrations for UUID keys and a foreign key leaving the extracted set.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from strangler.plans.schema import load_plan
from strangler.stack import load_stack
from tests.monolith.processes import REPO, free_port, running, url_answers

PYTHON = sys.executable
UUID_LIBRARY = Path(__file__).resolve().parent / "uuid_library"
TIMEOUT_SECONDS = 120
# Two routes of the table, two URL names of the storefront's pages.
ROUTES = (
    "catalog-products",
    "catalog-categories",
    "catalog:product-list",
    "catalog:product-detail",
)
_PYTEST = (PYTHON, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-W", "ignore")
# The children pick their own database and settings; the test's own must not leak in.
_NOT_INHERITED = ("DATABASE_URL", "CATALOG_DATABASE_URL", "DJANGO_SETTINGS_MODULE", "CATALOG_URL")


def _env(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    var_dir.mkdir(parents=True, exist_ok=True)
    env.update(PYTHONUNBUFFERED="1", STRANGLER_DEMO="1", STRANGLER_VAR_DIR=str(var_dir), **extra)
    return env


def _run(
    args: list[str], *, env: dict[str, str], cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, env=env, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
    )


def _ok(args: list[str], *, env: dict[str, str], cwd: Path = REPO) -> str:
    done = _run(args, env=env, cwd=cwd)
    assert done.returncode == 0, (
        f"{' '.join(args[:5])} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout


def _extract(
    *args: str, env: dict[str, str], project: Path = REPO
) -> subprocess.CompletedProcess[str]:
    return _run([PYTHON, "-m", "strangler", "extract", *args], env=env, cwd=project)


@contextlib.contextmanager
def _gunicorn(wsgi: str, env: dict[str, str], log: Path, cwd: Path) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [
        PYTHON, "-m", "gunicorn", "--chdir", str(cwd), wsgi,
        "-c", "python:strangler.servicekit.gunicorn_conf", "--workers", "2",
        "--bind", f"127.0.0.1:{port}",
    ]  # fmt: skip
    with running(args, env=env, log=log, ready=url_answers(f"{url}/readyz")):
        yield url


@pytest.fixture(scope="module")
def storefront(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The storefront's database, migrated and seeded (small), and its environment."""
    work = tmp_path_factory.mktemp("storefront")
    env = _env(work / "var", DJANGO_SETTINGS_MODULE="monolith.settings")
    _ok([PYTHON, "-m", "monolith", "migrate", "--noinput"], env=env)
    _ok([PYTHON, "-m", "monolith", "seed_demo", "--size", "small"], env=env)
    return work, env


@pytest.mark.e2e
def test_the_catalog_extracted_passes_its_own_contract_suite_against_the_monolith(
    storefront: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    _, monolith_env = storefront
    out = tmp_path / "catalog-service"
    routes_file = tmp_path / "routes.yaml"
    routes_file.write_text((REPO / "routes.yaml").read_text())
    plans = tmp_path / "plans"
    done = _extract(
        "catalog", "--app", "catalog", "--models", "catalog.Category,catalog.Product",
        "--routes", ",".join(ROUTES), "--routes-file", str(routes_file),
        "--settings", "monolith.settings", "--out", str(out), "--plans-dir", str(plans),
        env=monolith_env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    checklist = (out / "catalog" / "EXTRACT_CHECKLIST.md").read_text()
    assert done.stdout == checklist
    # What it could not copy safely, by name.
    assert "`monolith.inventory.services.stock_level_set`" in checklist
    assert "`monolith.cart.context_processors.cart_summary`" in checklist
    assert "`inventory.StockLevel` (table `inventory_stocklevel`)" in checklist
    assert "`cart:detail`" in checklist
    assert "`accounts:login`" in checklist
    assert "merge `MONOLITH_SYNC.py`" in checklist
    # Modules of other apps without models are copied, not stood in for.
    assert "`monolith.core.errors` -> `catalog.core.errors`" in checklist
    assert "`monolith.core.errors.Conflict`" not in checklist

    # Same tables and keys; the capture migration on top of the service's own initial one.
    models = (out / "catalog" / "catalog" / "models.py").read_text()
    assert 'db_table = "catalog_product"' in models
    assert 'db_table = "catalog_category"' in models
    capture = (out / "catalog" / "catalog" / "migrations" / "0002_sync_capture.py").read_text()
    assert 'CaptureTable(table="catalog_product", pk="id")' in capture
    assert (out / "catalog" / "catalog" / "migrations" / "0001_initial.py").is_file()

    # The route table: the service's upstream, the table's catalog routes owned by it, new
    # routes for the two pages, all still in mode monolith; the plan names them all.
    table = routes_file.read_text()
    assert "  catalog:\n    url: http://127.0.0.1:${CATALOG_PORT:-8200}" in table
    assert table.count("owner: catalog") == 4
    assert "  - name: catalog-catalog-product-detail\n    path: /products/<slug:slug>/\n" in table
    assert "mode: shadow" not in table
    _ok([PYTHON, "-m", "strangler.proxy.check", str(routes_file)], env=monolith_env)
    plan = load_plan(plans / "catalog.yaml")
    state = tmp_path / "plan-state"
    status = _ok(
        [PYTHON, "-m", "strangler", "plan", "status", "catalog", "--plans", str(plans),
         "--admin", "http://127.0.0.1:1", "--state-dir", str(state)],
        env=monolith_env,
    )  # fmt: skip
    assert "1. backfill         next" in status
    assert plan.service == "catalog"
    assert list(plan.routes) == [
        "catalog-products",
        "catalog-categories",
        "catalog-catalog-product-list",
        "catalog-catalog-product-detail",
    ]

    service_env = _env(tmp_path / "service-var", PYTHONPATH=str(out))
    _ok([PYTHON, "-m", "catalog", "check"], env=service_env, cwd=out)
    _ok([PYTHON, "-m", "catalog", "migrate", "--noinput"], env=service_env, cwd=out)
    _ok(
        [PYTHON, "-m", "catalog", "makemigrations", "--check", "--dry-run"],
        env=service_env,
        cwd=out,
    )

    with _gunicorn("monolith.wsgi", monolith_env, tmp_path / "monolith.log", REPO) as monolith:
        service_env["MONOLITH_URL"] = monolith
        with _gunicorn("catalog.wsgi", service_env, tmp_path / "service.log", out) as service:
            backfill = _ok(
                [PYTHON, "-m", "monolith", "sync_backfill", "--to", "catalog"],
                env={**monolith_env, "CATALOG_URL": service},
            )
            assert "catalog_product -> catalog: done, 200 rows" in backfill
            suite = _run(
                [*_PYTEST, "--strangler-base", monolith, "--strangler-candidate", service],
                env=service_env,
                cwd=out,
            )
    assert suite.returncode == 0, suite.stdout[-6000:]
    # The API's lists and detail routes, three rows each, the two HTML pages (the list, three
    # products), and a missing key of each detail route (the same 404 from the error views
    # the service copied).
    assert "19 passed" in suite.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--app", "nosuchapp"], "no installed app 'nosuchapp' in the monolith"),
        (["--app", "catalog", "--models", "catalog.Nope"], "no model 'catalog.Nope'"),
        (
            ["--app", "catalog", "--models", "orders.Order"],
            "is not in the extracted app(s) catalog",
        ),
        (["--app", "catalog", "--routes", "nope"], "no route or URL name 'nope'"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(
    args: list[str], message: str, tmp_path: Path
) -> None:
    env = _env(tmp_path / "var")
    done = _extract(
        "catalog", *args, "--settings", "monolith.settings", "--out", str(tmp_path / "out"), env=env
    )
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_non_empty_output_directory_is_refused_without_force(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    done = _extract(
        "catalog", "--app", "catalog", "--settings", "monolith.settings", "--out", str(out),
        env=_env(tmp_path / "var"),
    )  # fmt: skip
    assert done.returncode == 2
    assert f"{out} is not empty" in done.stderr
    assert "--force" in done.stderr
    assert "Traceback" not in done.stderr
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_a_uuid_keyed_model_keeps_its_key_and_a_foreign_key_leaving_becomes_a_column(
    tmp_path: Path,
) -> None:
    out = tmp_path / "books"
    project = tmp_path / "library"  # a copy: the monolith's settings are edited
    shutil.copytree(UUID_LIBRARY, project)
    env = _env(tmp_path / "var")
    done = _extract(
        "books", "--app", "shelf", "--models", "shelf.Book", "--settings", "library.settings",
        "--out", str(out), "--plans-dir", str(tmp_path / "plans"),
        env=env, project=project,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # The monolith's STRANGLER_SYNC, a plain literal, got the service's entries.
    monolith_sync = _ok(
        [PYTHON, "-c", "from library.settings import STRANGLER_SYNC as s; print(repr(s))"],
        env={**env, "PYTHONPATH": str(project)},
        cwd=project,
    )
    assert "'books': {'url': 'http://127.0.0.1:8200'}" in monolith_sync
    assert (
        "{'model': 'shelf.Book', 'to': 'books', 'fields': ['id', 'title', 'author_id', "
        "'published']}" in monolith_sync
    )
    assert "{'from': 'books', 'table': 'shelf_book', 'model': 'shelf.Book'}" in monolith_sync
    assert "`settings.py`'s `STRANGLER_SYNC` now has the books peer" in done.stdout
    service_settings = (out / "books" / "settings.py").read_text()
    assert '"library": {' in service_settings
    assert "LIBRARY_URL" in service_settings
    models = (out / "books" / "shelf" / "models.py").read_text()
    assert "id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)" in models
    assert "author_id = models.UUIDField(db_index=True, db_column='author_id')" in models
    assert "class Shelf" not in models  # not among --models
    initial = (out / "books" / "shelf" / "migrations" / "0001_initial.py").read_text()
    assert "('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True" in initial
    assert "'db_table': 'shelf_book'" in initial
    capture = (out / "books" / "shelf" / "migrations" / "0002_sync_capture.py").read_text()
    assert 'CaptureTable(table="shelf_book", pk="id")' in capture
    assert "`shelf.Book.author` -> `people.Author` (column `author_id`)" in done.stdout
    # The URL namespace stays the monolith's, the app's module is the service's.
    urls = (out / "books" / "shelf" / "urls.py").read_text()
    assert 'app_name = "shelf"' in urls
    assert "from books.shelf import views" in urls
    tests = (out / "tests" / "test_contract.py").read_text()
    assert "('shelf:book-detail', '/books/{pk}/', {'pk': ('shelf.Book', 'id')})" in tests
    service_env = {**env, "PYTHONPATH": str(out)}
    _ok([PYTHON, "-m", "books", "migrate", "--noinput"], env=service_env, cwd=out)
    _ok([PYTHON, "-m", "books", "makemigrations", "--check", "--dry-run"], env=service_env, cwd=out)
    load_plan(tmp_path / "plans" / "books.yaml")
    # Without --routes-file the route table entry is printed, the new routes in mode monolith.
    assert "upstreams:\n  books:\n    url: http://127.0.0.1:${BOOKS_PORT:-8200}" in done.stderr
    assert "  - name: books-shelf-book-detail\n    path: /books/<uuid:pk>/\n" in done.stderr
    # The Celery app, on the service's own queue with the sync's beat entries.
    celery = _ok(
        [PYTHON, "-c", "import books; c = books.celery_app.conf; "
         "print(c.task_default_queue, sorted(c.beat_schedule))"],
        env={**service_env, "DJANGO_SETTINGS_MODULE": "books.settings"},
        cwd=out,
    )  # fmt: skip
    assert celery.startswith("books [")
    assert "'strangler_sync.relay'" in celery


_TEAM_SYNC = """import os

SECRET_KEY = "uuid-library-test-only"
INSTALLED_APPS = ["shelf", "people", "strangler.sync"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
ROOT_URLCONF = "library.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
USE_TZ = True
# As `strangler init` writes it: the secrets are read from the environment.
STRANGLER_SYNC = {
    "node": "library",
    "secret": os.environ.get("STRANGLER_SYNC_SECRET", "test-only-sync-secret"),
    "peers": {},
    "outbound": [],
    "inbound": [],
}
"""
_MANAGE_PY = """import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "library.settings")
from django.core.management import execute_from_command_line

execute_from_command_line(sys.argv)
"""
_TEAM_TABLE = """version: 1
legacy: library
upstreams:
  library:
    url: "http://127.0.0.1:${MONOLITH_PORT:-8100}"
routes: []
"""


def test_a_teams_monolith_is_wired_for_the_service_without_hand_merges(tmp_path: Path) -> None:
    """The settings from manage.py; STRANGLER_SYNC as init writes it (secrets computed) edited
    in place; the monolith's capture migration written; the service's processes in the
    team's stack.yaml; the plan's monolith node at the route table's URL, run by manage.py."""
    project = tmp_path / "library"
    shutil.copytree(UUID_LIBRARY, project)
    (project / "library" / "settings.py").write_text(_TEAM_SYNC)
    (project / "manage.py").write_text(_MANAGE_PY)
    (project / "routes.yaml").write_text(_TEAM_TABLE)
    env = _env(tmp_path / "var")
    _ok([PYTHON, "manage.py", "makemigrations", "shelf", "people"], env=env, cwd=project)

    done = _extract(
        "books", "--app", "shelf", "--models", "shelf.Book", "--routes-file", "routes.yaml",
        env=env, project=project,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    settings = (project / "library" / "settings.py").read_text()
    assert '"secret": os.environ.get("STRANGLER_SYNC_SECRET", "test-only-sync-secret"),' in settings
    assert "MONOLITH_SYNC.py" not in done.stdout
    monolith_sync = _ok(
        [PYTHON, "-c", "from library.settings import STRANGLER_SYNC as s; print(repr(s))"],
        env={**env, "PYTHONPATH": str(project), "BOOKS_PORT": "9321"},
        cwd=project,
    )
    assert "'books': {'url': 'http://127.0.0.1:9321'}" in monolith_sync
    assert "{'model': 'shelf.Book', 'to': 'books', 'fields': ['id', 'title'," in monolith_sync
    assert "{'from': 'books', 'table': 'shelf_book', 'model': 'shelf.Book'}" in monolith_sync
    capture = project / "shelf" / "migrations" / "0002_sync_capture_books.py"
    assert 'CaptureTable(table="shelf_book", pk="id")' in capture.read_text()
    assert '("shelf", "0001_initial")' in capture.read_text()
    _ok([PYTHON, "manage.py", "makemigrations", "--check", "--dry-run"], env=env, cwd=project)
    stack = load_stack(project / "stack.yaml", environ={})
    processes = {process.name: process for process in stack.processes}
    assert "gunicorn books.wsgi --chdir ../books" in processes["books"].run
    assert processes["books"].port == 8200
    assert processes["books-worker"].run.startswith("celery --workdir ../books -A books worker")
    assert [s.run for s in stack.setup] == ["python ../books/manage.py migrate --noinput"]
    plan = load_plan(project / "migration_plans" / "books.yaml")
    assert plan.nodes["library"].manage == "python manage.py"
    assert "MONOLITH_PORT" in (project / "migration_plans" / "books.yaml").read_text()
    assert plan.nodes["books"].manage == "python ../books/manage.py"
    service_settings = (tmp_path / "books" / "books" / "settings.py").read_text()
    assert "env.int('MONOLITH_PORT', default=8100)" in service_settings

    # A second extraction into another directory writes no second capture migration.
    again = _extract(
        "books", "--app", "shelf", "--models", "shelf.Book", "--routes-file", "routes.yaml",
        "--out", str(tmp_path / "again"), env=env, project=project,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in (project / "shelf" / "migrations").glob("0*.py")) == [
        "0001_initial.py",
        "0002_sync_capture_books.py",
    ]
