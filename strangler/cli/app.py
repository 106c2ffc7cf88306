"""The ``strangler`` command: its parser, built from every command group, and dispatch.

Each command group lives in its own module (:mod:`strangler.cli.routes` for ``routes ...``)
with a ``register(subparsers)`` that adds its commands; each command is a function of the
parsed arguments returning an exit status. This module only builds the parser, dispatches,
and turns a :class:`~strangler.cli.errors.CommandError` into a message and a status, in one
place.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from strangler.cli import compare, extract, init, plan, routes, status, sync, up
from strangler.cli.errors import CommandError

__all__ = ["Command", "build_parser", "main"]

Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="strangler", description="Move a Django monolith to services, one route at a time."
    )
    groups = parser.add_subparsers(dest="group", metavar="COMMAND", required=True)
    routes.register(groups)
    up.register(groups)
    plan.register(groups)
    compare.register(groups)
    sync.register(groups)
    status.register(groups)
    init.register(groups)
    extract.register(groups)
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
