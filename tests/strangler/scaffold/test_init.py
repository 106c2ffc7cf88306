"""``strangler init`` on projects fresh from ``django-admin startproject``: run as a team runs
it, then the project checked, migrated and served by Django's own commands."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from strangler.identity import sign_internal_request
from strangler.stack import load_stack
from tests.monolith.processes import free_port, url_answers, wait_until

DJANGO_ADMIN = Path(sys.executable).with_name("django-admin")
START_DEADLINE_SECONDS = 60
COMMAND_TIMEOUT_SECONDS = 120
# A startproject project's own files; what init writes and what running it leaves beside them
# (the database, the Celery spool under var/, bytecode) are not part of the comparison.
_NOT_SOURCE = {"db.sqlite3", "var", "__pycache__", ".git"}


def project_env(**overrides: str) -> dict[str, str]:
    """A deployment's environment: no demo mode, fresh secrets, no settings module named (the
    project's manage.py names its own)."""
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env.pop("STRANGLER_DEMO", None)
    env.update(
        PYTHONUNBUFFERED="1",
        STRANGLER_IDENTITY_SECRET=secrets.token_urlsafe(32),
        STRANGLER_SYNC_SECRET=secrets.token_urlsafe(32),
    )
    env.update(overrides)
    return env


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_SECONDS
    )


def strangler_init(
    project: Path, *options: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "strangler", "init", *options], project, env or project_env())


def manage(project: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "manage.py", *args], project, env)


def start_project(directory: Path) -> Path:
    """``django-admin startproject mysite`` with one app of the team's (``shop``) installed."""
    directory.mkdir()
    env = project_env()
    created = run([str(DJANGO_ADMIN), "startproject", "mysite", str(directory)], directory, env)
    assert created.returncode == 0, created.stderr
    app = manage(directory, "startapp", "shop", env=env)
    assert app.returncode == 0, app.stderr
    settings = directory / "mysite" / "settings.py"
    text = settings.read_text()
    settings.write_text(
        text.replace(
            "    'django.contrib.staticfiles',\n",
            "    'django.contrib.staticfiles',\n    'shop',\n",
        )
    )
    return directory


def sources(project: Path) -> dict[str, bytes]:
    return {
        path.relative_to(project).as_posix(): path.read_bytes()
        for path in sorted(project.rglob("*"))
        if path.is_file() and not _NOT_SOURCE.intersection(path.relative_to(project).parts)
    }


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def initialised(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    project = start_project(tmp_path_factory.mktemp("init") / "site")
    return project, strangler_init(project)


@pytest.fixture(scope="module")
def served(initialised) -> Iterator[tuple[str, dict[str, str], Path]]:
    """The initialised project migrated and served by ``runserver``: its URL, env, directory."""
    project, _ = initialised
    env = project_env()
    migrated = manage(project, "migrate", "--noinput", env=env)
    assert migrated.returncode == 0, migrated.stderr
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (project.parent / "runserver.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=project,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(
            lambda: server.poll() is not None or url_answers(f"{base}/healthz")(),
            deadline=START_DEADLINE_SECONDS,
            what="runserver",
        )
        assert server.poll() is None, (project.parent / "runserver.log").read_text()
        yield base, env, project
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()


def ask_identity(base: str, question: dict[str, str], *, secret: str) -> requests.Response:
    """The proxy's question to the identity endpoint, signed as the proxy signs it."""
    body = json.dumps(question).encode()
    timestamp = int(time.time())
    return requests.post(
        f"{base}/internal/identity/resolve",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Strangler-Internal-Auth": sign_internal_request(
                body, secret=secret, timestamp=timestamp
            ),
            "X-Strangler-Timestamp": str(timestamp),
        },
        timeout=10,
    )


# A fresh project


def test_init_adds_every_item_and_the_project_check_passes(initialised) -> None:
    _, completed = initialised

    assert completed.returncode == 0, completed.stdout + completed.stderr
    lines = completed.stdout.splitlines()
    added = [line for line in lines if line.startswith("added: ")]
    assert len(added) == 13, completed.stdout
    assert "added: stack.yaml: env default 'PROXY_PORT'" in completed.stdout
    assert "Traceback" not in completed.stderr
    assert last_line(completed.stdout).startswith(
        "done: 4 file(s) changed, `manage.py check` passes"
    )


def test_init_prints_the_diff_of_each_file_it_changes(initialised) -> None:
    _, completed = initialised

    for name in ("mysite/settings.py", "mysite/urls.py", "mysite/__init__.py", "mysite/celery.py"):
        assert f"+++ b/{name}" in completed.stdout
    assert "+    'strangler.sync',\n" in completed.stdout  # the file's own quotes and indent


def test_the_initialised_project_migrates_and_answers_health_checks(served) -> None:
    base, _, _ = served

    healthz = requests.get(f"{base}/healthz", timeout=10)
    readyz = requests.get(f"{base}/readyz", timeout=10)

    assert (healthz.status_code, healthz.json()) == (200, {"status": "ok"})
    assert readyz.status_code == 200
    assert readyz.json() == {"status": "ok", "checks": {"database:default": "ok"}}


def test_the_identity_endpoint_resolves_a_session_as_the_toolkit_app_does(served) -> None:
    base, env, project = served
    made = manage(
        project,
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model, BACKEND_SESSION_KEY, HASH_SESSION_KEY, "
        "SESSION_KEY\n"
        "from django.contrib.sessions.backends.db import SessionStore\n"
        "user = get_user_model().objects.create_user('ada', password='not-tested-here')\n"
        "session = SessionStore()\n"
        "session[SESSION_KEY] = str(user.pk)\n"
        "session[BACKEND_SESSION_KEY] = 'django.contrib.auth.backends.ModelBackend'\n"
        "session[HASH_SESSION_KEY] = user.get_session_auth_hash()\n"
        "session.create()\n"
        "print(user.pk, session.session_key)",
        env=env,
    )
    assert made.returncode == 0, made.stderr
    user_id, session_key = made.stdout.splitlines()[-1].split()  # after 5.2's import notice

    known = ask_identity(base, {"session_id": session_key}, secret=env["STRANGLER_IDENTITY_SECRET"])
    anonymous = ask_identity(
        base, {"session_id": "x" * 32}, secret=env["STRANGLER_IDENTITY_SECRET"]
    )
    forged = ask_identity(base, {"session_id": session_key}, secret=secrets.token_urlsafe(32))

    assert known.status_code == 200
    assert known.json() == {
        "authenticated": True,
        "user_id": user_id,
        "username": "ada",
        "is_staff": False,
    }
    assert anonymous.json() == {
        "authenticated": False,
        "user_id": None,
        "username": None,
        "is_staff": False,
    }
    assert forged.status_code == 403


def test_the_sync_endpoints_answer_under_internal_sync(served) -> None:
    base, _, _ = served

    unsigned = requests.get(f"{base}/internal/sync/status", timeout=10)

    assert unsigned.status_code in (401, 403)  # there, and refusing a caller without the secret


def test_the_initialised_settings_refuse_to_start_without_the_identity_secret(initialised) -> None:
    project, _ = initialised
    env = project_env()
    env.pop("STRANGLER_IDENTITY_SECRET")

    checked = manage(project, "check", env=env)

    assert checked.returncode != 0
    assert "STRANGLER_IDENTITY_SECRET is not set" in checked.stderr
    assert "Traceback" not in checked.stderr


def test_a_second_run_changes_nothing_and_says_so(initialised) -> None:
    project, _ = initialised
    before = sources(project)

    again = strangler_init(project)

    assert again.returncode == 0, again.stdout + again.stderr
    assert sources(project) == before
    lines = again.stdout.strip().splitlines()
    assert len([line for line in lines if line.startswith("already present: ")]) == 13
    assert not [line for line in lines if line.startswith(("added", "---", "+++"))]
    assert (
        last_line(again.stdout) == "nothing to do: the project has everything strangler init adds."
    )


def test_init_writes_the_stack_file_strangler_up_runs(initialised) -> None:
    """The monolith under gunicorn, its Celery worker and beat and the proxy in front, each
    port a variable with a default, as the repository's stack.yaml runs the storefront."""
    project, _ = initialised
    stack = load_stack(project / "stack.yaml", environ={})

    assert stack.env["MONOLITH_PORT"] == "8100"
    assert stack.env["PROXY_PORT"] == "8000"
    assert stack.env["PROXY_ADMIN_PORT"] == "8001"
    assert [step.run for step in stack.setup] == ["python manage.py migrate --noinput"]
    processes = {process.name: process for process in stack.processes}
    assert processes["monolith"].run.startswith(
        "gunicorn mysite.wsgi -c python:strangler.servicekit.gunicorn_conf"
    )
    assert processes["monolith"].port == 8100
    assert processes["monolith"].ready == "http://127.0.0.1:8100/readyz"
    assert processes["monolith-worker"].run.startswith("celery -A mysite worker")
    assert processes["monolith-beat"].run.startswith("celery -A mysite beat")
    assert processes["proxy"].run == "python -m strangler.proxy --config routes.yaml"
    assert processes["proxy"].port == 8000


# What init does not change


def test_dry_run_prints_the_diff_and_changes_nothing(tmp_path: Path) -> None:
    project = start_project(tmp_path / "site")
    before = sources(project)

    dry = strangler_init(project, "--dry-run")

    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert sources(project) == before
    assert "+++ b/mysite/settings.py" in dry.stdout
    assert "would add: STRANGLER_SYNC (mysite/settings.py)" in dry.stdout
    assert last_line(dry.stdout) == "dry run: 4 file(s) would change; nothing was changed."


def test_installed_apps_built_by_code_is_left_alone_with_the_edit_printed(tmp_path: Path) -> None:
    project = start_project(tmp_path / "site")
    settings = project / "mysite" / "settings.py"
    text = settings.read_text()
    settings.write_text(
        text.replace("INSTALLED_APPS = [", "DJANGO_APPS = [").replace(
            "\nMIDDLEWARE = [", "\nINSTALLED_APPS = DJANGO_APPS + []\n\nMIDDLEWARE = [", 1
        )
    )
    line = settings.read_text().splitlines().index("INSTALLED_APPS = DJANGO_APPS + []") + 1
    before = sources(project)

    refused = strangler_init(project)

    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert sources(project) == before
    assert (
        f"edit by hand: mysite/settings.py:{line}: INSTALLED_APPS: strangler.sync, "
        "strangler.contrib.identity: INSTALLED_APPS is not one list written one element a "
        "line; add 'strangler.sync', 'strangler.contrib.identity' to it"
    ) in refused.stdout.splitlines()
    assert "to add after the hand edits: STRANGLER_SYNC (mysite/settings.py)" in refused.stdout
    assert last_line(refused.stdout).startswith("hand edits remain (1): nothing was changed")


def test_after_the_hand_edit_a_second_run_adds_the_rest(tmp_path: Path) -> None:
    project = start_project(tmp_path / "site")
    settings = project / "mysite" / "settings.py"
    text = settings.read_text().replace("INSTALLED_APPS = [", "DJANGO_APPS = [")
    settings.write_text(
        text.replace(
            "\nMIDDLEWARE = [",
            "\nINSTALLED_APPS = DJANGO_APPS + ['strangler.sync', 'strangler.contrib.identity']\n"
            "\nMIDDLEWARE = [",
            1,
        )
    )

    completed = strangler_init(project)

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert (
        "already present: INSTALLED_APPS: strangler.sync, strangler.contrib.identity "
        "(mysite/settings.py)"
    ) in completed.stdout
    assert manage(project, "check", env=project_env()).returncode == 0


# Projects init cannot read


def test_a_directory_without_manage_py_is_a_clear_error(tmp_path: Path) -> None:
    refused = strangler_init(tmp_path)

    assert refused.returncode == 2
    assert "no manage.py here" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_settings_module_that_is_not_there_is_a_clear_error(tmp_path: Path) -> None:
    project = start_project(tmp_path / "site")
    (project / "mysite" / "settings.py").unlink()

    refused = strangler_init(project)

    assert refused.returncode == 2
    assert "settings 'mysite.settings': neither mysite/settings.py nor" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_settings_file_that_does_not_parse_is_a_clear_error(tmp_path: Path) -> None:
    project = start_project(tmp_path / "site")
    (project / "mysite" / "settings.py").write_text("INSTALLED_APPS = [\n")

    refused = strangler_init(project)

    assert refused.returncode == 2
    assert "mysite/settings.py:1: not valid Python" in refused.stderr
    assert "Traceback" not in refused.stderr


# Git


def test_uncommitted_changes_are_refused_unless_forced(tmp_path: Path) -> None:
    project = start_project(tmp_path / "site")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "startproject"]):
        assert run([*git, *args], project, project_env()).returncode == 0
    urls = project / "mysite" / "urls.py"
    urls.write_text(urls.read_text() + "# a change not committed yet\n")
    before = sources(project)

    refused = strangler_init(project)
    after_refusal = sources(project)
    forced = strangler_init(project, "--force")

    assert refused.returncode == 1
    assert "uncommitted changes in mysite/urls.py: commit them first" in refused.stderr
    assert after_refusal == before
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "# a change not committed yet" in urls.read_text()
    assert "internal/identity/" in urls.read_text()


# Split settings and a Celery setup of the team's own


def split_settings(project: Path) -> Path:
    """The startproject settings moved to ``mysite/settings/base.py``, which the package's
    ``__init__`` imports with ``*``: the layout of many teams' settings."""
    package = project / "mysite" / "settings"
    package.mkdir()
    base = (project / "mysite" / "settings.py").read_text()
    (project / "mysite" / "settings.py").unlink()
    (package / "base.py").write_text(base.replace(".parent.parent\n", ".parent.parent.parent\n"))
    (package / "__init__.py").write_text("from .base import *  # noqa: F403\n")
    return package


def printed_block(output: str) -> str:
    """The lines ``edit by hand: ...: add at the end:`` asks for, as printed."""
    after = output.split("add at the end:\n", 1)[1].splitlines()
    lines = []
    for line in after:
        if line.startswith(("edit by hand: ", "to add after the hand edits: ")):
            break
        lines.append(line)
    return "\n".join(lines) + "\n"


def test_a_settings_package_is_left_alone_and_the_printed_edits_make_it_whole(
    tmp_path: Path,
) -> None:
    project = start_project(tmp_path / "site")
    package = split_settings(project)
    before = sources(project)

    refused = strangler_init(project)

    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert sources(project) == before
    assert (
        "mysite/settings/__init__.py is a settings package (split settings); "
        "add 'strangler.sync', 'strangler.contrib.identity' to it"
    ) in refused.stdout
    assert "edit by hand: mysite/settings/base.py:" in refused.stdout

    # The team makes the edits as printed, then runs init again for the rest.
    base = package / "base.py"
    base.write_text(
        base.read_text()
        .replace(
            "    'shop',\n",
            "    'shop',\n    'strangler.sync',\n    'strangler.contrib.identity',\n",
        )
        .replace(
            "MIDDLEWARE = [\n",
            "MIDDLEWARE = [\n    'strangler.servicekit.request_id.request_id_middleware',\n"
            "    'strangler.sync.freshness.data_versions_middleware',\n",
        )
    )
    init = package / "__init__.py"
    init.write_text(init.read_text() + printed_block(refused.stdout))
    completed = strangler_init(project)

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "already present: STRANGLER_SYNC (mysite/settings/__init__.py)" in completed.stdout
    assert "added: URL healthz (mysite/urls.py)" in completed.stdout
    assert manage(project, "check", env=project_env()).returncode == 0


def test_celery_settings_of_the_teams_own_hold_back_only_the_celery_wiring(
    tmp_path: Path,
) -> None:
    project = start_project(tmp_path / "site")
    settings = project / "mysite" / "settings.py"
    settings.write_text(settings.read_text() + "\nCELERY_BROKER_URL = 'redis://127.0.0.1:6379/0'\n")
    line = len(settings.read_text().splitlines())

    refused = strangler_init(project, "--dry-run")

    assert refused.returncode == 1
    assert (
        f"edit by hand: mysite/settings.py:{line}: Celery wiring: the settings set "
        "CELERY_BROKER_URL: merge your CELERY_* settings"
    ) in refused.stdout
    assert "to add after the hand edits: STRANGLER_SYNC (mysite/settings.py)" in refused.stdout


def test_a_project_whose_check_fails_is_put_back_as_it_was(tmp_path: Path) -> None:
    project = start_project(tmp_path / "site")
    settings = project / "mysite" / "settings.py"
    settings.write_text(
        settings.read_text().replace("    'shop',\n", "    'shop',\n    'no_such_app',\n")
    )
    before = sources(project)

    refused = strangler_init(project)

    assert refused.returncode == 1
    assert sources(project) == before
    assert not (project / "mysite" / "celery.py").exists()
    assert "No module named 'no_such_app'" in refused.stdout
    assert last_line(refused.stdout).endswith("it fails without them too: fix that first.")


def test_settings_named_on_the_command_line_need_no_manage_py(tmp_path: Path) -> None:
    project = start_project(tmp_path / "site")
    (project / "manage.py").unlink()

    completed = strangler_init(project, "--settings", "mysite.settings")

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert last_line(completed.stdout).startswith("done: 4 file(s) changed")
    checked = run(
        [sys.executable, "-m", "django", "check"],
        project,
        project_env(DJANGO_SETTINGS_MODULE="mysite.settings", PYTHONPATH=str(project)),
    )
    assert checked.returncode == 0, checked.stderr


def test_the_storefront_has_everything_init_adds() -> None:
    repository = Path(__file__).resolve().parents[3]

    completed = strangler_init(
        repository, "--project", str(repository), "--settings", "monolith.settings", "--dry-run"
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert last_line(completed.stdout) == (
        "nothing to do: the project has everything strangler init adds."
    )
