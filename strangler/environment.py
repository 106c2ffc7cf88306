"""The environment the toolkit runs a project's commands in.

Stack files and plans name `python`, `gunicorn`, `celery`: the ones installed beside this
strangler, whatever the caller's ``PATH`` says (a shell without the virtualenv activated).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["VAR_DIR_VARIABLE", "path_with_own_python", "var_dir"]

#: Where the toolkit keeps its state (plans, comparison results, captures); ``var/`` by default.
VAR_DIR_VARIABLE = "STRANGLER_VAR_DIR"


def path_with_own_python(path: str) -> str:
    """``path`` with this interpreter's directory first."""
    return os.pathsep.join([str(Path(sys.executable).parent), path])


def var_dir(env: Mapping[str, str] | None = None, *, default: Path | str = "var") -> Path:
    """``$STRANGLER_VAR_DIR``, or ``default`` when unset or empty: read here, nowhere else."""
    value = (os.environ if env is None else env).get(VAR_DIR_VARIABLE)
    return Path(value or default)
