"""The ``strangler`` console script: the CLI, or which extra to install when it is missing.

The base distribution is what a team installs into its Django project (the sync, the
identity app, the service kit's Django parts); the command line needs the ``cli`` extra.
Without it, ``strangler`` says what to install instead of failing with an ImportError.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Sequence

__all__ = ["CLI_DEPENDENCIES", "main", "missing_dependencies"]

# Top-level import names of the ``cli`` extra (pyproject.toml).
CLI_DEPENDENCIES = ("aiohttp", "pydantic", "ruamel", "honcho", "rich", "psycopg")
# strangler.cli.errors.ExitCode.CANNOT_RUN, without importing the CLI.
_CANNOT_RUN = 2


def missing_dependencies() -> list[str]:
    """The ``cli`` extra's modules this environment lacks (looked for, not imported)."""
    return [name for name in CLI_DEPENDENCIES if importlib.util.find_spec(name) is None]


def main(argv: Sequence[str] | None = None) -> int:
    missing = missing_dependencies()
    if missing:
        print(
            "strangler: the command line needs the toolkit's cli extra "
            f"(missing: {', '.join(missing)}); install it with: "
            "pip install 'strangler-toolkit[cli]'",
            file=sys.stderr,
        )
        return _CANNOT_RUN
    # Imported only now: the check above is what keeps a missing extra from a traceback.
    cli: Callable[[Sequence[str] | None], int] = importlib.import_module("strangler.cli").main
    return cli(argv)
