"""The environment the toolkit runs a project's commands in.

Stack files and plans name `python`, `gunicorn`, `celery`: the ones installed beside this
strangler, whatever the caller's ``PATH`` says (a shell without the virtualenv activated).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["path_with_own_python"]


def path_with_own_python(path: str) -> str:
    """``path`` with this interpreter's directory first."""
    return os.pathsep.join([str(Path(sys.executable).parent), path])
