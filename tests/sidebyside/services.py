"""The monolith and the catalog service as real processes, loaded with the same rows.

Each gets its own ``STRANGLER_VAR_DIR`` under the test's temporary directory, and so its own
SQLite database there, migrated and loaded by ``python -m <project>`` subprocesses from the
one data set of ``tests/extracted/catalog/contract.py``; then each runs under gunicorn on a
free port. The monolith gets two users with API tokens; the service has no users, it
trusts the signed identity the proxy would send for them.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strangler.compare.model import Headers
from strangler.identity import IDENTITY_HEADER, Identity, sign_identity
from tests.extracted.catalog.contract import fixture
from tests.monolith.processes import PYTHON, free_port, running, url_answers

__all__ = ["PUBLIC_HOST", "Pair", "catalog_pair", "credentials"]

# The public host the proxy passes through: page links are built from it on both sides.
PUBLIC_HOST = "shop.example.test"
SECRET = "side-by-side-identity-secret"
# Migrating every app of the monolith on SQLite takes ~10 s here; this bound still fails a
# hung command well inside the suite's timeout.
MANAGE_TIMEOUT_SECONDS = 100
_TOKENS = {"stella": "5" * 40, "alice": "a" * 40}
_USERS = {
    "alice": Identity(user_id="2", username="alice"),
    "stella": Identity(user_id="1", username="stella", is_staff=True),
}
_MAKE_USERS = f"""
from monolith.accounts.models import User
from rest_framework.authtoken.models import Token
for username, staff in (("stella", True), ("alice", False)):
    user = User.objects.create_user(username, email=username + "@example.com", is_staff=staff)
    Token.objects.create(user=user, key={_TOKENS!r}[username])
"""
# What a child must not inherit from the pytest process: it picks its own database.
_NOT_INHERITED = ("DATABASE_URL", "CATALOG_DATABASE_URL", "DJANGO_SETTINGS_MODULE")


@dataclass(frozen=True)
class Pair:
    monolith: str  # base URLs
    catalog: str
    logs: tuple[Path, Path]


def credentials(caller: str | None) -> tuple[Headers, Headers]:
    """What the proxy sends each side for ``caller``: the token to the monolith, the token
    and the signed identity to the service."""
    if caller is None:
        return (), ()
    token: Headers = (("Authorization", f"Token {_TOKENS[caller]}"),)
    identity = sign_identity(_USERS[caller], secret=SECRET, now=time.time())
    return token, (*token, (IDENTITY_HEADER, identity))


def _env(var_dir: Path, settings: str, service: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _NOT_INHERITED}
    var_dir.mkdir(parents=True, exist_ok=True)
    env.update(
        PYTHONUNBUFFERED="1",
        STRANGLER_VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE=settings,
        DJANGO_ALLOWED_HOSTS=f"{PUBLIC_HOST},127.0.0.1",
        STRANGLER_IDENTITY_SECRET=SECRET,
        STRANGLER_SERVICE=service,
    )
    return env


def _manage(project: str, *args: str, env: dict[str, str]) -> None:
    done = subprocess.run(
        [PYTHON, "-m", project, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=MANAGE_TIMEOUT_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"{project} {' '.join(args)} failed:\n{done.stderr[-4000:]}")


def _load(project: str, rows: list[dict[str, Any]], env: dict[str, str], work: Path) -> None:
    data = work / f"{project}-catalog.json"
    data.write_text(json.dumps(rows, ensure_ascii=False))
    _manage(project, "migrate", "--noinput", env=env)
    _manage(project, "loaddata", str(data), env=env)


@contextlib.contextmanager
def _gunicorn(wsgi: str, env: dict[str, str], log: Path) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [
        PYTHON, "-m", "gunicorn", wsgi, "-c", "python:strangler.servicekit.gunicorn_conf",
        "--workers", "2", "--bind", f"127.0.0.1:{port}",
    ]  # fmt: skip
    with running(args, env=env, log=log, ready=url_answers(f"{url}/readyz")):
        yield url


@contextlib.contextmanager
def catalog_pair(work: Path) -> Iterator[Pair]:
    monolith_env = _env(work / "monolith", "monolith.settings", "monolith")
    catalog_env = _env(work / "catalog", "extracted.catalog.settings", "catalog")
    _load("monolith", fixture(stock_model="inventory.stocklevel"), monolith_env, work)
    _manage("monolith", "shell", "-c", _MAKE_USERS, env=monolith_env)
    _load("extracted.catalog", fixture(stock_model="catalog.stocklevel"), catalog_env, work)
    logs = (work / "monolith.log", work / "catalog.log")
    with (
        _gunicorn("monolith.wsgi", monolith_env, logs[0]) as monolith,
        _gunicorn("extracted.catalog.wsgi", catalog_env, logs[1]) as catalog,
    ):
        yield Pair(monolith=monolith, catalog=catalog, logs=logs)
