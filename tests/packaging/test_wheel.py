"""The distribution is the toolkit only, and installs beside a project's own Django.

A real wheel is built from this checkout and installed into fresh virtual environments that
already hold a project's Django: pip must leave that Django as it is, and the toolkit must
import there. The demo storefront (``monolith``, ``extracted``) and the tests stay out.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# Building and installing a wheel with its dependencies from the package index.
pytestmark = pytest.mark.timeout(600)


def _run(*args: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(  # noqa: S603
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a copy of what the distribution is made of (the checkout stays clean)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, source / name)
    shutil.copytree(
        REPO / "strangler", source / "strangler", ignore=shutil.ignore_patterns("__pycache__")
    )
    # The project's other top-level folders, so that the package selection is what is tested.
    for demo in ("monolith", "extracted", "tests", "bench"):
        (source / demo).mkdir()
        (source / demo / "__init__.py").write_text("")
    out = tmp_path_factory.mktemp("wheel")
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", out, ".",
         cwd=source)
    (built,) = out.glob("*.whl")
    return built


def _top_levels(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return {name.split("/", 1)[0] for name in archive.namelist()}


def test_the_wheel_holds_the_toolkit_and_nothing_of_the_demo(wheel: Path) -> None:
    tops = _top_levels(wheel)
    packages = {top for top in tops if not top.endswith(".dist-info")}
    assert packages == {"strangler"}


def _environment_with(tmp: Path, django: str, python: str = sys.executable) -> Path:
    env = tmp / "venv"
    if python == sys.executable:
        venv.EnvBuilder(with_pip=True).create(env)
    else:
        _run(python, "-m", "venv", env)
    pip = env / "bin" / "python"
    _run(pip, "-m", "pip", "install", "--quiet", f"Django=={django}")
    return pip


def _django_version(python: Path) -> str:
    return _run(python, "-c", "import django; print(django.get_version())").strip()


def test_the_sync_installs_beside_django_4_2_without_the_proxys_dependencies(
    wheel: Path, tmp_path: Path
) -> None:
    python = _environment_with(tmp_path, "4.2.*")
    before = _django_version(python)
    _run(python, "-m", "pip", "install", "--quiet", wheel)
    assert _django_version(python) == before
    assert before.startswith("4.2")
    _run(python, "-c", "import strangler.sync.apply, strangler.servicekit.health")
    missing = _run(python, "-c", "import importlib.util as u; print(u.find_spec('aiohttp'))")
    assert missing.strip() == "None"
