"""The environment the toolkit runs a project's commands in.

Stack files and plans name `python`, `gunicorn`, `celery`: the ones installed beside this
strangler, whatever the caller's ``PATH`` says (a shell without the virtualenv activated).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "STORE_URL_VARIABLE",
    "VAR_DIR_VARIABLE",
    "describe_url",
    "path_with_own_python",
    "store_url",
    "var_dir",
]

#: Where the toolkit keeps its state (plans, comparison results, captures); ``var/`` by default.
VAR_DIR_VARIABLE = "STRANGLER_VAR_DIR"
#: The shared control store of a fleet (``postgres://user@host:5432/db``); unset: files on
#: this host (strangler.control, and the comparison results).
STORE_URL_VARIABLE = "STRANGLER_STORE_URL"


def path_with_own_python(path: str) -> str:
    """``path`` with this interpreter's directory first."""
    return os.pathsep.join([str(Path(sys.executable).parent), path])


def var_dir(env: Mapping[str, str] | None = None, *, default: Path | str = "var") -> Path:
    """``$STRANGLER_VAR_DIR``, or ``default`` when unset or empty: read here, nowhere else."""
    value = (os.environ if env is None else env).get(VAR_DIR_VARIABLE)
    return Path(value or default)


def store_url(env: Mapping[str, str] | None = None) -> str | None:
    """``$STRANGLER_STORE_URL``, or ``None`` when unset or empty: read here, nowhere else.
    Its scheme is checked by the store that opens it."""
    value = (os.environ if env is None else env).get(STORE_URL_VARIABLE, "").strip()
    return value or None


def describe_url(url: str) -> str:
    """``url`` with its password shown as ``***`` (in the user part and in a ``password``
    query parameter), for messages and logs."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.partition(':')[0]}:***@{host}"
    if not parts.query:
        return urlunsplit(parts._replace(netloc=netloc))
    pairs = [(k, "***" if k == "password" else v) for k, v in parse_qsl(parts.query)]
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(pairs, safe="*")))
