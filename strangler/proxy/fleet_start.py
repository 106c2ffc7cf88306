"""Where a replica's first table comes from when the proxy runs as a fleet
(``STRANGLER_STORE_URL`` set): the shared control store once it holds a table, else the
table file, which seeds it.

After the seed the store is the truth: a replica given a file that differs from the store's
table serves the store's and says, in a warning, that its file was not used and how to apply
it (``strangler routes import FILE``). With no store to reach there is nothing to serve (no
table was ever loaded): the replica refuses to start, naming the store, its password masked.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from strangler.control import ControlStore, StoreError, TableRecord
from strangler.proxy.errors import ConfigError
from strangler.proxy.routing import RouteTable
from strangler.proxy.table_store import validated_table
from strangler.proxy.write_guard import START_UP_PATIENCE_SECONDS

__all__ = ["StartRefused", "first_table", "store_source", "table_file_text"]

logger = logging.getLogger(__name__)


class StartRefused(ConfigError):
    """No table to serve: the store cannot be reached, is empty with no file to seed it,
    or holds a table this replica refuses."""

    default_code = "start_refused"


def store_source(control: ControlStore, version: int) -> str:
    """How messages name the store's table: the store (password masked) and the version."""
    return f"{control.where} (route table version {version})"


def table_file_text(path: Path) -> str | None:
    """The table file's text; ``None`` when there is no such file (none was given)."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StartRefused(f"{path}: cannot read the route table: {exc.strerror}") from exc


def _same_table(a: str, b: str) -> bool:
    """The same table whatever the layout; a file that is not YAML differs."""
    try:
        return bool(YAML(typ="safe").load(a) == YAML(typ="safe").load(b))
    except YAMLError:
        return False


async def first_table(
    control: ControlStore, path: Path, *, member: str, sync_secret: str
) -> tuple[TableRecord, RouteTable]:
    """The store's table (seeded from ``path`` when the store holds none), validated as a
    file is; raises :class:`StartRefused` with what to do."""
    try:
        await asyncio.to_thread(control.ensure_schema)
        record = await asyncio.to_thread(control.read_table)
        text = table_file_text(path)
        if record is None:
            record = await _seed(control, path, text, member=member, sync_secret=sync_secret)
        elif text is not None and not _same_table(text, record.text):
            logger.warning(
                "route table file %s was not used: the control store at %s holds a table "
                "(version %d) and is the truth once seeded; to apply the file to the whole "
                "fleet run `strangler routes import %s`",
                path,
                control.where,
                record.version,
                path,
            )
    except StoreError as exc:
        raise StartRefused(
            f"cannot start: {exc.message}. This replica has no route table of its own to serve "
            f"until the store (STRANGLER_STORE_URL) answers; check that it is running and "
            f"reachable from here."
        ) from exc
    try:
        table = await validated_table(
            record.text,
            source=store_source(control, record.version),
            sync_secret=sync_secret,
            patience=START_UP_PATIENCE_SECONDS,
        )
    except ConfigError as exc:
        raise StartRefused(
            f"cannot start: the table in the control store is refused: {exc.message}. Correct "
            f"it with `strangler routes import FILE` (a valid table file)."
        ) from exc
    return record, table


async def _seed(
    control: ControlStore, path: Path, text: str | None, *, member: str, sync_secret: str
) -> TableRecord:
    if text is None:
        raise StartRefused(
            f"cannot start: the control store at {control.where} holds no route table yet and "
            f"there is no table file to seed it from ({path} not found). Give the proxy a file "
            f"(STRANGLER_ROUTES or --config), or put one in the store with "
            f"`strangler routes import FILE`."
        )
    try:  # a file the proxy would refuse never becomes the fleet's table
        await validated_table(
            text, source=str(path), sync_secret=sync_secret, patience=START_UP_PATIENCE_SECONDS
        )
    except ConfigError as exc:
        raise StartRefused(f"cannot seed the control store: {exc.message}") from exc
    record, seeded = await asyncio.to_thread(
        control.seed_table, text, actor=member, via="seed", source=str(path)
    )
    if seeded:
        logger.info("seeded the control store at %s from %s (version 1)", control.where, path)
    elif not _same_table(text, record.text):  # another replica starting with us won the seed
        logger.warning(
            "route table file %s was not used: another replica seeded the control store at %s "
            "first; to apply the file run `strangler routes import %s`",
            path,
            control.where,
            path,
        )
    return record
