"""The shared control store as the CLI opens it: from ``STRANGLER_STORE_URL``, once a command.

Unset, the commands work as on one host (the route table file, plan state files). A store
that cannot be reached stops the command with the URL (its password masked) and the
database's reason, never a traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from strangler.cli.errors import CommandError, ExitCode
from strangler.control import STORE_URL_VARIABLE, ControlStore, StoreError, open_control, store_url

__all__ = [
    "STORE_URL_VARIABLE",
    "control_store",
    "run_needing_store",
    "run_with_store",
    "store_failed",
]


@contextlib.contextmanager
def control_store() -> Iterator[ControlStore | None]:
    """The store ``STRANGLER_STORE_URL`` names, connected, closed at the end; ``None`` when
    it is unset. :class:`CommandError` (could not run) when it cannot be reached."""
    url = store_url()
    if url is None:
        yield None
        return
    try:
        store = open_control(url, application_name="strangler cli")
    except StoreError as exc:
        raise store_failed(exc) from exc
    try:
        yield store
    finally:
        store.close()


def store_failed(exc: StoreError) -> CommandError:
    """The command's error for a store that failed (its message names the masked URL)."""
    return CommandError(f"{exc.message} [{exc.code}]", exit_code=ExitCode.CANNOT_RUN)


def run_with_store(command: Callable[[ControlStore | None], int]) -> int:
    """``command(store)`` with the store ``STRANGLER_STORE_URL`` names (``None`` when unset);
    a store failing midway is a :class:`CommandError` naming it, not a traceback."""
    with control_store() as store:
        try:
            return command(store)
        except StoreError as exc:
            raise store_failed(exc) from exc


def run_needing_store(command: Callable[[ControlStore], int], *, what: str) -> int:
    """:func:`run_with_store` for a command that only works on the shared store: ``what`` it
    does names why, when ``STRANGLER_STORE_URL`` is unset."""

    def run(store: ControlStore | None) -> int:
        if store is None:
            raise CommandError(
                f"{what}: set {STORE_URL_VARIABLE} (postgres://user@host:port/database); with "
                "the file store of one host the table file is the table",
                exit_code=ExitCode.CANNOT_RUN,
            )
        return command(store)

    return run_with_store(run)
