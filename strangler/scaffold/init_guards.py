"""What guards ``strangler init``'s writes, each in a child process: git says whether the files
are committed (no backup is written), and the project's own ``manage.py check`` says whether
it still loads with the edits (the ``strangler`` command never imports Django)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from strangler.scaffold.init_project import SETTINGS_VARIABLE, Project
from strangler.scaffold.init_source import ScaffoldError
from strangler.servicekit.secret_settings import DEMO_VARIABLE, IDENTITY_SECRET, SYNC_SECRET

__all__ = ["CheckResult", "run_check", "uncommitted_files"]

# `manage.py check` imports the project and its apps: seconds; two minutes means a hang.
CHECK_TIMEOUT_SECONDS = 120.0
# `git status` on a large work tree takes a second or two; thirty means a lock or a hang.
GIT_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    output: str
    demo: bool  # run with STRANGLER_DEMO=1, a secret of the toolkit's being unset


def run_check(project: Project, env: Mapping[str, str]) -> CheckResult:
    """``python manage.py check`` on the project, in a child process (its own Django)."""
    child = dict(env)
    child[SETTINGS_VARIABLE] = project.settings_module
    child["PYTHONPATH"] = os.pathsep.join(filter(None, [str(project.root), env.get("PYTHONPATH")]))
    # The secrets init's settings read; where they are not set (init is run on a developer's
    # machine) the check runs the demo, so it says whether the edits load, not what is unset.
    demo = not child.get(DEMO_VARIABLE) and not all(
        child.get(spec.name) for spec in (IDENTITY_SECRET, SYNC_SECRET)
    )
    if demo:
        child[DEMO_VARIABLE] = "1"
    command = (
        [sys.executable, "manage.py", "check"]
        if project.manage_py is not None
        else [sys.executable, "-m", "django", "check"]
    )
    try:
        completed = subprocess.run(  # noqa: S603 - our own interpreter, the project's manage.py
            command,
            cwd=project.root,
            env=child,
            capture_output=True,
            text=True,
            timeout=CHECK_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return CheckResult(
            ok=False, output=f"no answer in {CHECK_TIMEOUT_SECONDS:.0f} s", demo=demo
        )
    return CheckResult(
        ok=completed.returncode == 0,
        output=(completed.stdout + completed.stderr).strip(),
        demo=demo,
    )


def uncommitted_files(project: Project, paths: list[Path]) -> list[str]:
    """Which of ``paths`` git knows to differ from the last commit (untracked included);
    none when the project is not in a git work tree or git is not installed."""
    git = shutil.which("git")
    if git is None:
        return []
    try:
        inside = subprocess.run(  # noqa: S603 - git, with paths of the project
            [git, "-C", str(project.root), "rev-parse", "--is-inside-work-tree"],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
        if inside.returncode != 0 or inside.stdout.strip() != "true":
            return []
        status = subprocess.run(  # noqa: S603 - git, with paths of the project
            [git, "-C", str(project.root), "status", "--porcelain", "--untracked-files=all", "--"]
            + [str(path.relative_to(project.root)) for path in paths],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ScaffoldError(
            f"git could not tell whether the files are committed ({exc})."
        ) from None
    return [line[3:] for line in status.stdout.splitlines() if line.strip()]
