"""The pytest plugin (``side_by_side``) on the library monolith: a team's test file, run by
pytest with the plugin from its entry point, compares two real processes of the library
(``manage.py runserver``), each on its own copy of one seeded database. Alike, every
comparison passes; with a candidate whose loans last longer, the test fails with the
differences' clusters."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.library.conftest import PROJECT
from tests.monolith.processes import free_port, running, url_answers

pytest_plugins = ["pytester"]

# The interpreter the library runs under: this suite's (Django 5.2) unless LIBRARY_PYTHON
# names another, e.g. a virtualenv with the library's own requirements.txt (Django 4.2).
LIBRARY_PYTHON = os.environ.get("LIBRARY_PYTHON") or sys.executable
pytestmark = pytest.mark.e2e

# The seed's books (uuid5 of their slugs): the one copy alice has out, and one of two copies.
SILENT_BOOK = "f630a24c-2351-5c76-a67e-cf09868f9148"
GOLDEN_BOOK = "97378f48-d9e6-5117-be2a-5efd7938b127"


def _environment(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIBRARY_", "DATABASE_"))}
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "library.settings",
        "LIBRARY_DEMO": "1",
        "LIBRARY_VAR_DIR": str(var_dir),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def _manage(var_dir: Path, *args: str) -> None:
    subprocess.run(
        [LIBRARY_PYTHON, str(PROJECT / "manage.py"), *args],
        env=_environment(var_dir),
        cwd=PROJECT,
        capture_output=True,
        check=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def seeded_database(tmp_path_factory) -> Path:
    """One database, migrated and seeded once; each server gets a copy of it."""
    var_dir = tmp_path_factory.mktemp("library-seed")
    _manage(var_dir, "migrate", "--verbosity", "0")
    _manage(var_dir, "seed_library", "--books", "24")
    return var_dir / "library.sqlite3"


def _serve(seeded: Path, var_dir: Path, **extra: str) -> Iterator[str]:
    # A server per test: the team's tests write (a loan), and each pair starts from the seed.
    var_dir.mkdir()
    shutil.copyfile(seeded, var_dir / "library.sqlite3")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [
        LIBRARY_PYTHON,
        str(PROJECT / "manage.py"),
        "runserver",
        "--noreload",
        f"127.0.0.1:{port}",
    ]
    with running(
        args,
        env=_environment(var_dir, **extra),
        log=var_dir / "runserver.log",
        ready=url_answers(f"{url}/api/books/"),
    ):
        yield url


@pytest.fixture
def base(seeded_database, tmp_path_factory) -> Iterator[str]:
    yield from _serve(seeded_database, tmp_path_factory.mktemp("base") / "var")


@pytest.fixture
def same(seeded_database, tmp_path_factory) -> Iterator[str]:
    yield from _serve(seeded_database, tmp_path_factory.mktemp("same") / "var")


@pytest.fixture
def longer_loans(seeded_database, tmp_path_factory) -> Iterator[str]:
    yield from _serve(
        seeded_database, tmp_path_factory.mktemp("longer") / "var", LIBRARY_LOAN_DAYS="28"
    )


def _run(pytester: pytest.Pytester, test: str, base: str, candidate: str) -> pytest.RunResult:
    pytester.makepyfile(test_team=test)
    # The team's file needs no Django: the outer run's pytest-django stays out of the inner one.
    return pytester.runpytest(
        "-p", "no:cacheprovider", "-p", "no:asyncio", "-p", "no:django",
        "--strangler-base", base, "--strangler-candidate", candidate,
    )  # fmt: skip


_TEAM_TEST = """
import json

import pytest

SILENT = "f630a24c-2351-5c76-a67e-cf09868f9148"  # the seed's one copy, out to alice
GOLDEN = "97378f48-d9e6-5117-be2a-5efd7938b127"
ALICE = {"Authorization": "ApiKey lib_demo_alice"}
BOB = {"Authorization": "ApiKey lib_demo_bob"}


@pytest.mark.parametrize(
    "path",
    [
        "/api/books/", "/api/books/?page=2", f"/api/books/{SILENT}/", f"/api/books/{GOLDEN}/",
        "/api/authors/", "/api/authors/2/",
    ],
)
def test_the_catalogue(side_by_side, path):
    side_by_side.request("GET", path)


@pytest.mark.parametrize("path", ["/books/", f"/books/{SILENT}/", "/authors/3/", "/loans/"])
def test_the_html_pages_of_a_member_signed_with_a_key(side_by_side, path):
    answers = side_by_side.request("GET", path, headers=ALICE)
    assert answers.base.status == 200


def test_alices_loans_and_card(side_by_side):
    side_by_side.request("GET", "/api/loans/", headers=ALICE)
    side_by_side.request("GET", "/api/me/", headers=ALICE)


def test_a_wrong_key_is_refused_alike(side_by_side):
    answers = side_by_side.request("GET", "/api/me/", headers={"Authorization": "ApiKey nope"})
    assert answers.base.status == 401


def test_bob_borrows_and_returns_a_book(side_by_side):
    borrowed = side_by_side.request("POST", "/api/loans/", json={"book": GOLDEN}, headers=BOB)
    loan = json.loads(borrowed.base.body)
    assert borrowed.base.status == 201
    returned = side_by_side.request("POST", f"/api/loans/{loan['id']}/return/", headers=BOB)
    assert json.loads(returned.base.body)["returned"] is True
"""

TEAM_TESTS = 13


def test_two_processes_of_the_library_alike_pass_every_comparison(
    pytester: pytest.Pytester, base: str, same: str
) -> None:
    result = _run(pytester, _TEAM_TEST, base, same)

    result.assert_outcomes(passed=TEAM_TESTS)


def test_a_candidate_whose_loans_last_longer_fails_with_the_clusters(
    pytester: pytest.Pytester, base: str, longer_loans: str
) -> None:
    result = _run(pytester, _TEAM_TEST, base, longer_loans)

    # The catalogue's book answers say the loan period; bob's loan is due a week later.
    failed = {line.split(" ")[1] for line in result.outlines if line.startswith("FAILED ")}
    assert failed == {
        "test_team.py::test_bob_borrows_and_returns_a_book",
        "test_team.py::test_the_catalogue[/api/books/?page=2]",
        "test_team.py::test_the_catalogue[/api/books/]",
        f"test_team.py::test_the_catalogue[/api/books/{SILENT_BOOK}/]",
        f"test_team.py::test_the_catalogue[/api/books/{GOLDEN_BOOK}/]",
    }
    result.assert_outcomes(passed=TEAM_TESTS - 5, failed=5)
    result.stdout.fnmatch_lines(
        [
            f"*GET /api/books/{SILENT_BOOK}/: the candidate answers differently from the base*",
            "*1 x loan_period_days (value)",
            "*loan_period_days: base 21 → candidate 28",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*POST /api/loans/: the candidate answers differently from the base*",
            "*1 x due_on (value)",
            "*due_on: base * → candidate *",
        ]
    )
