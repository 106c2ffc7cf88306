"""A route's change made to a table's text and validated as a load validates it: shared by
the admin API's two stores (the table file, ``admin_changes``; the control store,
``admin_fleet``), so a change is accepted or refused the same way in both."""

from __future__ import annotations

from ruamel.yaml import YAML

from strangler import routes_file
from strangler.proxy.admin_http import AdminError
from strangler.proxy.config import parse_table_config
from strangler.proxy.errors import ConfigError
from strangler.proxy.routing import RouteTable
from strangler.proxy.write_guard import WritesNotCarried, check_writes_carried

__all__ = ["validated_edit"]


def validated_edit(
    text: str,
    name: str,
    change: routes_file.RouteChange,
    force: bool,
    *,
    source: str,
    sync_secret: str,
) -> tuple[str, RouteTable | None]:
    """``text`` with the change made, and its table validated as a load validates it
    (``None``: the change is a no-op). Blocking (the write-owner check): run in a thread."""
    edited = routes_file.edit_route(text, name, change, force=force)
    if edited == text:
        return text, None
    try:
        config = parse_table_config(YAML(typ="safe").load(edited), source=source)
        table = RouteTable(config, source=source)
    except ConfigError as exc:
        raise AdminError(400, "invalid_change", exc.message) from exc
    try:
        check_writes_carried(config, source=source, secret=sync_secret)
    except WritesNotCarried as exc:
        raise AdminError(409, exc.code, exc.message) from exc
    return edited, table
