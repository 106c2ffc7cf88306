"""Whether the proxy that answers is the one serving the table the operator gave.

``strangler routes list|set`` find the proxy's admin API from ``--admin`` or the
environment; a proxy of another stack on the same port answers as readily as the right
one, and a change through it would move another team's route. When the operator names a
table (``--config`` or ``$STRANGLER_ROUTES``), the proxy must serve that file, or a table
with the same legacy upstream, routes and upstream addresses (a copy, as in a container);
otherwise the command is refused, saying what differs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from strangler.cli.errors import CommandError, ExitCode
from strangler.cli.routes.admin import ProxyNotRunning, admin_request
from strangler.cli.routes.checker import check_report

__all__ = ["ensure_serving"]


def ensure_serving(config: Path, *, admin: str, served: dict[str, Any] | None = None) -> None:
    """Refuse (exit 1) when the proxy at ``admin`` serves a table other than ``config``.

    ``served`` is its ``GET /routes`` answer when the caller has it. A proxy on the shared
    store serves the store's table, not a file: nothing to compare. Raises
    :class:`ProxyNotRunning` when nothing answers.
    """
    if served is None:
        status, served = admin_request("GET", f"{admin.rstrip('/')}/routes")
        if status != 200:
            return  # the command's own request says what is wrong
    if served.get("store") != served.get("file") or not config.is_file():
        return
    file = served.get("file")
    if isinstance(file, str) and _same_file(Path(file), config):
        return
    report = check_report(config, source=config)
    if not report["valid"]:  # nothing to compare with: the proxy's table may be anyone's
        raise CommandError(
            f"{report['error']}; cannot tell whether the proxy at {admin} (serving "
            f"{file or 'another table'}) serves this table. Nothing was changed",
            exit_code=ExitCode.REFUSED,
        )
    differences = _differences(report, served, _served_upstreams(admin))
    if differences:
        raise CommandError(
            f"the proxy at {admin} serves {file or 'another table'}, not {config}: "
            f"{'; '.join(differences)}. Nothing was changed. Point --admin (or "
            "$PROXY_ADMIN_PORT) at the proxy that serves this table, or give --config the "
            "table that proxy serves",
            exit_code=ExitCode.REFUSED,
        )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _served_upstreams(admin: str) -> dict[str, str] | None:
    try:
        status, payload = admin_request("GET", f"{admin.rstrip('/')}/upstreams")
    except (ProxyNotRunning, CommandError):
        return None
    if status != 200 or not isinstance(payload.get("upstreams"), list):
        return None
    return {u["name"]: u["source"] for u in payload["upstreams"] if isinstance(u, dict)}


def _differences(
    table: dict[str, Any], served: dict[str, Any], upstreams: dict[str, str] | None
) -> list[str]:
    found = []
    if table.get("legacy") != served.get("legacy"):
        there, here = served.get("legacy"), table.get("legacy")
        found.append(f"legacy upstream {there!r} there, {here!r} here")
    ours = {route["name"] for route in table["routes"]}
    theirs = {route["name"] for route in served.get("routes", []) if isinstance(route, dict)}
    if ours != theirs:
        only_here, only_there = sorted(ours - theirs), sorted(theirs - ours)
        if only_here:
            found.append(f"routes only in the table given: {', '.join(only_here)}")
        if only_there:
            found.append(f"routes only in the proxy's: {', '.join(only_there)}")
    if upstreams is not None:  # a proxy too old to list them is judged on its routes
        ours_at: dict[str, str] = table.get("upstreams") or {}
        for name in sorted(set(ours_at) | set(upstreams)):
            here, there = ours_at.get(name), upstreams.get(name)
            if here != there:
                there, here = there or "absent", here or "absent"
                found.append(f"upstream {name} is {there} there, {here} here")
    return found
