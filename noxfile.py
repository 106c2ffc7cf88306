"""The Django version matrix: the toolkit's sync and servicekit suites on every Django it supports.

``pyproject.toml`` admits Django 4.2 (the last LTS many monoliths still run) to 6.1. Each
session is a fresh virtual environment with the toolkit and one Django release; ``.ci/run``
runs them all (``nox``), two at a time. Django 6 needs Python 3.12 or newer, so those
sessions run there; the rest on 3.11, the oldest Python the toolkit supports.

The demo storefront is not part of the matrix: it is an example project that needs Django
5.1 or newer (``CheckConstraint(condition=...)``), so the one servicekit test that starts it
stays in ``make test``. The second example, the library (``examples/library``), is a team's
project on Django 4.2: the ``library`` session runs its suite, and the toolkit's commands on
it, on that release (``make test-library`` on the toolkit's own Django).
"""

from __future__ import annotations

import nox

from tests.packaging.interpreters import find_python

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = False

# (Django release, Python it is tested on): the oldest Python each release supports.
MATRIX = [
    ("4.2", "3.11"),
    ("5.0", "3.11"),
    ("5.1", "3.11"),
    ("5.2", "3.11"),
    ("6.0", "3.12"),
    ("6.1", "3.12"),
]
# The sync tests that need a database server (PostgreSQL, MySQL/MariaDB) are left out: the
# matrix runs on SQLite.
_SQLITE_ONLY = "not postgres and not mysql and not server_database"
DEMO_TESTS = "tests/strangler/servicekit/test_startup_refusals.py"


def _interpreter(version: str) -> str:
    return find_python(version) or f"python{version}"


@nox.session(name="toolkit")
@nox.parametrize(
    ("django", "python"),
    [nox.param(d, _interpreter(p), id=f"django-{d}") for d, p in MATRIX],
)
def toolkit(session: nox.Session, django: str) -> None:
    """The sync suite (two nodes on SQLite) and the servicekit suite on one Django release."""
    session.install("-e", ".[all,test]", f"django=={django}.*")
    session.run("python", "-c", "import django; print('Django', django.get_version())")
    pytest = ("python", "-m", "pytest", "-p", "no:cacheprovider", "-q")
    env = {"STRANGLER_DEMO": "1"}
    sync = ("--ds=tests.sync_project.settings", "tests/strangler/sync", "-m", _SQLITE_ONLY)
    session.run(*pytest, *sync, env=env)
    session.run(*pytest, "tests/strangler/servicekit", f"--ignore={DEMO_TESTS}", env=env)


@nox.session(name="library", python=_interpreter("3.11"))
def library(session: nox.Session) -> None:
    """The library monolith's suite, from-urlconf and the pytest plugin on it, on Django 4.2."""
    session.install("-e", ".[all,test]", "-r", "examples/library/requirements.txt")
    session.run("python", "-c", "import django; print('Django', django.get_version())")
    session.run(
        "python", "-m", "pytest", "-p", "no:cacheprovider", "-q", "-o",
        "pythonpath=examples/library", "--ds=library.settings", "tests/library",
    )  # fmt: skip
