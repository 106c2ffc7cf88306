"""The distribution is the toolkit only, and installs beside a project's own Django.

A real wheel is built from this checkout and installed, with its dependencies from the
package index, into fresh virtual environments that already hold a project's Django: pip
must leave that Django as it is. The base install is what a team puts into its monolith
(the sync, the identity app, the health views) and carries none of the proxy's
dependencies; ``[all]`` adds the proxy, the command line and the service kit's DRF parts.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.packaging.interpreters import find_python

REPO = Path(__file__).resolve().parents[2]
# Building a wheel and installing it with its dependencies: a minute or two each.
pytestmark = pytest.mark.timeout(900)
# The newest Django needs the newest Python this machine has (Django 6 needs 3.12).
NEWEST = [("6.1", "3.13"), ("6.1", "3.12"), ("5.2", f"{sys.version_info[0]}.{sys.version_info[1]}")]


def _run(
    *args: str | Path, cwd: Path | None = None, ok: bool = True
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, check=False
    )
    if ok:
        assert done.returncode == 0, f"{args} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a copy of the checkout's tracked files (the checkout stays clean)."""
    source = tmp_path_factory.mktemp("source")
    tracked = _run("git", "-C", REPO, "ls-files", "-z").stdout.split("\0")
    for name in filter(None, tracked):
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (REPO / name).is_file():
            shutil.copy2(REPO / name, target)
    out = tmp_path_factory.mktemp("wheel")
    _run(sys.executable, "-m", "build", "--wheel", "--outdir", out, source)
    (built,) = out.glob("*.whl")
    return built


def _environment(tmp: Path, python: str, django: str) -> Path:
    env = tmp / f"venv-{django}"
    _run(python, "-m", "venv", env)
    interpreter = env / "bin" / "python"
    _run(interpreter, "-m", "pip", "install", "--quiet", f"Django=={django}.*")
    return interpreter


def _django_version(python: Path) -> str:
    return _run(
        python, "-c", "import django; print(django.get_version())", cwd=python.parent
    ).stdout.strip()


# Imports the toolkit's Django parts the way a project does: settings first, then the apps.
_IMPORT_PROBE = """
import django
from django.conf import settings
settings.configure(
    INSTALLED_APPS={apps},
    STRANGLER_IDENTITY_SECRET="x" * 40,
    STRANGLER_SYNC={{
        "node": "monolith", "secret": "y" * 40, "peers": {{}}, "outbound": [], "inbound": []
    }},
)
django.setup()
import importlib
for name in {modules}:
    importlib.import_module(name)
"""


def _imports(python: Path, apps: list[str], modules: list[str]) -> None:
    # Run outside the checkout: ``-c`` puts the working directory first on the path.
    _run(python, "-c", _IMPORT_PROBE.format(apps=apps, modules=modules), cwd=python.parent)


def _has(python: Path, module: str) -> bool:
    probe = f"import importlib.util as u; print(u.find_spec({module!r}) is not None)"
    return _run(python, "-c", probe, cwd=python.parent).stdout.strip() == "True"


def test_the_wheel_holds_the_toolkit_and_nothing_of_the_example(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    packages = {
        name.split("/", 1)[0] for name in names if not name.split("/", 1)[0].endswith(".dist-info")
    }

    assert packages == {"strangler"}
    assert "strangler/proxy/__main__.py" in names
    assert "strangler/py.typed" in names
    # strangler extract's templates of the generated project are package data.
    assert "strangler/scaffold/extract/templates/settings.py.tmpl" in names
    assert "strangler/scaffold/extract/templates/test_contract.py.tmpl" in names
    with zipfile.ZipFile(wheel) as archive:
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        declared = archive.read(entry_points).decode()
    assert "[pytest11]\nstrangler = strangler.pytest_plugin\n" in declared
    assert not [
        n for n in names if "/tests/" in n or n.startswith(("monolith/", "extracted/", "proxy/"))
    ]


def test_the_base_install_sits_beside_django_4_2_without_the_proxys_dependencies(
    wheel: Path, tmp_path: Path
) -> None:
    python = _environment(tmp_path, sys.executable, "4.2")
    before = _django_version(python)

    _run(python, "-m", "pip", "install", "--quiet", wheel)

    assert before.startswith("4.2.")
    assert _django_version(python) == before
    _imports(
        python,
        [
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "strangler.sync",
            "strangler.contrib.identity",
        ],
        ["strangler.sync.apply", "strangler.servicekit.health", "strangler.contrib.identity.views"],
    )
    assert not any(
        _has(python, name) for name in ("aiohttp", "uvloop", "httptools", "rest_framework")
    )
    command = _run(python.parent / "strangler", "--help", ok=False)
    assert command.returncode == 2
    assert "pip install 'strangler-toolkit[cli]'" in command.stderr
    assert "Traceback" not in command.stderr


def test_everything_installs_beside_the_newest_django_without_changing_it(
    wheel: Path, tmp_path: Path
) -> None:
    django, python = next((d, p) for d, v in NEWEST if (p := find_python(v)))
    interpreter = _environment(tmp_path, python, django)
    before = _django_version(interpreter)

    _run(interpreter, "-m", "pip", "install", "--quiet", f"{wheel}[all]")

    assert before.startswith(f"{django}.")
    assert _django_version(interpreter) == before
    assert _run(interpreter.parent / "strangler", "--help").stdout.startswith("usage: strangler")
    _imports(
        interpreter,
        ["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"],
        ["strangler.proxy.app", "strangler.servicekit.strict_fields", "strangler.cli.app"],
    )
    _run(interpreter, "-m", "pip", "install", "--quiet", "pytest")
    project = _team_project(tmp_path, _TEAM_RUN_TEST)
    run = _run(interpreter, "-m", "pytest", "-p", "no:cacheprovider", cwd=project, ok=False)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "1 passed" in run.stdout


# A team's test of two code paths: needs no server, only the plugin and the engine.
_TEAM_RUN_TEST = """
def test_the_new_total_agrees(side_by_side):
    assert side_by_side.run(lambda: {"total": 6}, lambda: {"total": 6}) == {"total": 6}
"""
_TEAM_TESTS_WITHOUT_EXTRAS = """
def test_that_does_not_compare():
    assert True

def test_that_compares(side_by_side):
    side_by_side.run(lambda: 1, lambda: 1)
"""


def _team_project(tmp: Path, test: str) -> Path:
    """A team's project outside the checkout: its own tests and an empty ini file."""
    project = tmp / "team"
    project.mkdir()
    (project / "pytest.ini").write_text("[pytest]\n")
    (project / "test_team.py").write_text(test)
    return project


def test_the_pytest_plugin_loads_in_a_base_install_and_names_the_extra_it_needs(
    wheel: Path, tmp_path: Path
) -> None:
    python = _environment(tmp_path, sys.executable, "4.2")
    _run(python, "-m", "pip", "install", "--quiet", wheel, "pytest")
    project = _team_project(tmp_path, _TEAM_TESTS_WITHOUT_EXTRAS)

    options = _run(python, "-m", "pytest", "--help", cwd=project)
    run = _run(python, "-m", "pytest", "-p", "no:cacheprovider", "-rA", cwd=project, ok=False)

    assert not _has(python, "pydantic")
    assert "--strangler-base=URL" in options.stdout
    # The fixture's setup is what fails: pytest counts it an error of that test.
    assert "1 passed, 1 error" in run.stdout, run.stdout[-3000:]
    assert "pip install 'strangler-toolkit[cli]'" in run.stdout
    assert "Traceback" not in run.stdout
    assert "During handling" not in run.stdout
