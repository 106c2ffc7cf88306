"""The shared control store as the CLI opens it: from ``STRANGLER_STORE_URL``, once a command.

Unset, the commands work as on one host (the route table file, plan state files). A store
that cannot be reached stops the command with the URL (its password masked) and the
database's reason, never a traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from strangler.cli.errors import CommandError, ExitCode
from strangler.control import STORE_URL_VARIABLE, ControlStore, StoreError, open_control, store_url

__all__ = ["STORE_URL_VARIABLE", "control_store", "store_failed"]


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
