"""How a ``strangler`` command stops: its exit status, and the error that carries one.

Exit status of every command: 0 done, 1 refused (the message says what to fix), 2 could not
run (bad usage, a peer that cannot be reached, a file that cannot be read).

This module imports nothing of the CLI: every command module imports it, and the parser in
:mod:`strangler.cli.app` imports every command module, so the errors sit below both.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["CommandError", "ExitCode"]


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
