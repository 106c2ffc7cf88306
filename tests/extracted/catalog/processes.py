"""Real processes of the catalog service (and of the monolith, to compare): environments,
management commands, fresh databases and gunicorn servers.

The monolith only ever runs here as a process: the service's tests never import it.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings

from tests.monolith.processes import PYTHON, free_port, running, url_answers

__all__ = [
    "MANAGE_TIMEOUT_SECONDS",
    "Server",
    "fresh_database",
    "gunicorn",
    "manage",
    "project_env",
]

# Migrating the monolith's every app on PostgreSQL takes ~10 s here; a generous bound for a
# loaded machine still fails a hung command well inside the suite's timeout.
MANAGE_TIMEOUT_SECONDS = 100

# What a child must not inherit from this pytest process: it picks its own project and
# database, whatever this run was started with.
_NOT_INHERITED = ("DATABASE_URL", "CATALOG_DATABASE_URL", "DJANGO_SETTINGS_MODULE")


def project_env(*, var_dir: Path, **overrides: str) -> dict[str, str]:
    """The environment of a child process with its own ``var/`` directory."""
    env = {key: value for key, value in os.environ.items() if key not in _NOT_INHERITED}
    env.update(PYTHONUNBUFFERED="1", STRANGLER_VAR_DIR=str(var_dir), **overrides)
    return env


def manage(project: str, *args: str, env: dict[str, str]) -> str:
    """``python -m <project> <args>``; its stdout, or a failure showing its stderr."""
    done = subprocess.run(
        [PYTHON, "-m", project, *args], env=env, capture_output=True, text=True,
        timeout=MANAGE_TIMEOUT_SECONDS, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise AssertionError(f"{project} {' '.join(args)} failed:\n{done.stderr[-4000:]}")
    return done.stdout


@contextlib.contextmanager
def fresh_database(label: str, tmp: Path) -> Iterator[str]:
    """A database URL of its own: a SQLite file under ``tmp``, or, when this run is on
    PostgreSQL, a new database on the same server, dropped afterwards."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        yield f"sqlite:///{tmp / f'{label}.sqlite3'}"
        return
    name = f"e2e_{label}_{os.getpid()}"
    port = db["PORT"] or 5432
    admin = psycopg.connect(
        host=db["HOST"], port=port, user=db["USER"], dbname="postgres",
        password=db["PASSWORD"] or None, autocommit=True, connect_timeout=10,
    )  # fmt: skip
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgres://{db['USER']}@{db['HOST']}:{port}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass(frozen=True)
class Server:
    url: str
    log: Path
    proc: subprocess.Popen[bytes]

    def log_entries(self) -> list[dict[str, Any]]:
        entries = []
        for line in self.log.read_text().splitlines():
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if isinstance(entry, dict):
                    entries.append(entry)
        return entries


@contextlib.contextmanager
def gunicorn(wsgi: str, *, env: dict[str, str], log: Path, workers: int = 1) -> Iterator[Server]:
    """``wsgi`` under gunicorn with the services' shared configuration, on a free port."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [PYTHON, "-m", "gunicorn", wsgi, "-c", "python:strangler.servicekit.gunicorn_conf",
            "--workers", str(workers), "--bind", f"127.0.0.1:{port}"]  # fmt: skip
    with running(args, env=env, log=log, ready=url_answers(f"{url}/readyz")) as proc:
        yield Server(url=url, log=log, proc=proc)
