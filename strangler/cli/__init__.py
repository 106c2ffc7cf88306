"""``strangler``: the toolkit's command line.

Each command group lives in its own module (``strangler.cli.routes`` for ``routes ...``)
with a ``register(subparsers)`` that adds its commands; each command is a function of the
parsed arguments returning an exit status. This module only builds the parser, dispatches,
and turns a :class:`CommandError` into a message and a status, in one place.

Exit status of every command: 0 done, 1 refused (the message says what to fix), 2 could not
run (bad usage, a peer that cannot be reached, a file that cannot be read).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from enum import IntEnum

__all__ = ["Command", "CommandError", "ExitCode", "build_parser", "main"]


class ExitCode(IntEnum):
    OK = 0
    REFUSED = 1
    CANNOT_RUN = 2


class CommandError(Exception):
    """A command that stops with ``message`` on stderr and ``exit_code``."""

    def __init__(self, message: str, *, exit_code: ExitCode) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    # Imported here: the command modules import ExitCode and CommandError from this one.
    from strangler.cli import compare, plan, routes, sync, up

    parser = argparse.ArgumentParser(
        prog="strangler", description="Move a Django monolith to services, one route at a time."
    )
    groups = parser.add_subparsers(dest="group", metavar="COMMAND", required=True)
    routes.register(groups)
    up.register(groups)
    plan.register(groups)
    compare.register(groups)
    sync.register(groups)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command: Command = args.command
    try:
        return command(args)
    except CommandError as exc:
        print(f"strangler: {exc.message}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        return 130
