"""Finding a Python of a given version on this machine (the matrix and the packaging test)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess

__all__ = ["find_python"]


def find_python(version: str) -> str | None:
    """``python3.X`` from PATH, or from a pyenv install when PATH has none that runs.

    A pyenv shim is on PATH for every version pyenv knows, but runs only the selected ones.
    """
    found = shutil.which(f"python{version}")
    if found:
        probe = subprocess.run([found, "-c", ""], capture_output=True, check=False)
        if probe.returncode == 0:
            return found
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates = sorted(glob.glob(os.path.join(root, "versions", f"{version}.*", "bin", "python3")))
    return candidates[-1] if candidates else None
