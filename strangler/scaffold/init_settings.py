"""The monolith's settings as ``strangler init`` leaves them (``monolith/settings.py`` wires the
storefront the same way).

- ``INSTALLED_APPS``: the sync and the identity endpoint;
- ``MIDDLEWARE``: the request-id middleware first, so every log line of a request carries the
  id the proxy gave it, then the sync's data versions (``strangler.sync.freshness``);
- the identity secret, read through ``strangler.servicekit.secret_settings``: outside demo
  mode a missing, short or published secret stops start-up, so no working default is written;
- ``STRANGLER_IDENTITY``, a ``STRANGLER_SYNC`` naming this node with no peers yet
  (``strangler extract`` adds them), and the Celery wiring (``sync_celery_settings``).

A list is extended in place when it is one literal written one element a line; the other
settings go in one block at the end of the file. A settings package, a ``from ... import *``
or a setting built by code is left alone: the lines to add are printed instead.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass

from strangler.scaffold.init_items import Item, Status
from strangler.scaffold.init_source import Edit, SourceFile, append_lines, prepend_lines

__all__ = ["APPS", "MIDDLEWARE", "settings_items"]

APPS = ("strangler.sync", "strangler.contrib.identity")
# First, in this order, as the storefront has them: the request id before anything logs, and
# the sync's data versions around every view (shadow comparisons tell "not synced yet" by them).
MIDDLEWARE = (
    "strangler.servicekit.request_id.request_id_middleware",
    "strangler.sync.freshness.data_versions_middleware",
)
# An app may be installed by its AppConfig's path instead of its own.
_ALSO_WRITTEN = {
    "strangler.sync": "strangler.sync.apps.StranglerSyncConfig",
    "strangler.contrib.identity": "strangler.contrib.identity.apps.StranglerIdentityConfig",
}
_CELERY = "Celery wiring"
_LINE_CHARS = 88  # ruff's and black's default
_SECRETS = "_strangler_secrets"  # lower case: not a setting, never shown on a debug page


@dataclass(frozen=True)
class _Block:
    """One setting the block at the end of the file defines, and the names its lines use."""

    what: str
    present: bool
    lines: tuple[str, ...]
    uses: tuple[str, ...]


def settings_items(
    sources: Sequence[SourceFile], *, main: SourceFile, project: str, refusal: str
) -> list[Item]:
    """What the settings need; ``refusal`` (empty when ``main`` may be edited) says why not."""
    quote = main.quote()
    items = [
        _list_item(
            sources, main, "INSTALLED_APPS", APPS, refusal=refusal, quote=quote, first=False
        ),
        _list_item(
            sources,
            main,
            "MIDDLEWARE",
            MIDDLEWARE,
            refusal=refusal,
            quote=quote,
            first=True,
        ),
    ]
    blocks = _blocks(sources, main, project)
    missing = [block for block in blocks if not block.present]
    items += [
        Item(what=block.what, relative=main.relative, status=Status.PRESENT)
        for block in blocks
        if block.present
    ]
    conflict = _own_celery_settings(sources)
    if conflict is not None and any(block.what == _CELERY for block in missing):
        relative, line, how = conflict
        items.append(Item(what=_CELERY, relative=relative, status=Status.HAND, line=line, how=how))
        missing = [block for block in missing if block.what != _CELERY]
    if not missing:
        return items
    if refusal:
        lines = [*_import_lines(main, {n for b in missing for n in b.uses}), ""]
        lines += [line for block in missing for line in block.lines]
        items.append(
            Item(
                what=", ".join(block.what for block in missing),
                relative=main.relative,
                status=Status.HAND,
                line=len(main.lines) + 1,
                how=f"{refusal}; add at the end:\n" + _quoted("\n".join(lines), quote),
            )
        )
        return items
    uses = {name for block in missing for name in block.uses}
    imports = _import_lines(main, uses)
    edits: list[Edit] = []
    if imports:
        at = main.import_line()
        edits.append(
            Edit((at, 0), (at, 0), _quoted("".join(f"{line}\n" for line in imports), quote))
        )
    end = len(main.lines) + 1
    text = "\n" + "".join(f"{line}\n" for block in missing for line in block.lines)
    edits.append(Edit((end, 0), (end, 0), _quoted(text, quote)))
    first, *rest = missing
    items.append(
        Item(what=first.what, relative=main.relative, status=Status.ADD, edits=tuple(edits))
    )
    items += [Item(what=block.what, relative=main.relative, status=Status.ADD) for block in rest]
    return items


def _list_item(
    sources: Sequence[SourceFile],
    main: SourceFile,
    name: str,
    wanted: Sequence[str],
    *,
    refusal: str,
    quote: str,
    first: bool,
) -> Item:
    known = set().union(*(source.strings() for source in sources))
    missing = [
        value for value in wanted if value not in known and _ALSO_WRITTEN.get(value) not in known
    ]
    what = f"{name}: {', '.join(missing or wanted)}"
    if not missing:
        return Item(what=what, relative=main.relative, status=Status.PRESENT)
    elements = [f"{quote}{value}{quote}" for value in missing]
    literal = None if refusal else main.literal_list(name)
    edits = []
    if literal is not None:
        edits = (prepend_lines if first else append_lines)(main, literal, elements)
    if edits:
        return Item(what=what, relative=main.relative, status=Status.ADD, edits=tuple(edits))
    # Point at the statement that binds it, in whichever of the settings' files it is.
    where, bindings = next(
        ((source, found) for source in sources if (found := source.assignments(name))),
        (main, []),
    )
    place = "first in" if first else "to"
    elements = [f"{where.quote()}{value}{where.quote()}" for value in missing]
    reason = refusal or (
        f"{name} is not one list written one element a line"
        if bindings
        else f"{name} is not set in this file"
    )
    return Item(
        what=what,
        relative=where.relative,
        status=Status.HAND,
        line=bindings[0].lineno if bindings else None,
        how=f"{reason}; add {', '.join(elements)} {place} it",
    )


def _blocks(sources: Sequence[SourceFile], main: SourceFile, project: str) -> list[_Block]:
    def bound(name: str) -> bool:
        return any(source.assignments(name) for source in sources)

    wired = any(any(source.calls("sync_celery_settings")) for source in sources)
    secrets_read = bound(_SECRETS)
    read_secrets = (
        ()
        if secrets_read
        else (
            "# strangler init: outside demo mode (STRANGLER_DEMO=1) a missing, short or published",
            "# secret stops start-up (strangler.servicekit.secret_settings).",
            f"{_SECRETS} = read_secrets_or_exit(",
            "    os.environ, (IDENTITY_SECRET, SYNC_SECRET, SYNC_METRICS_TOKEN)",
            ")",
        )
    )
    secret_names = (
        "os",
        "read_secrets_or_exit",
        "IDENTITY_SECRET",
        "SYNC_SECRET",
        "SYNC_METRICS_TOKEN",
    )
    var_dir = "BASE_DIR" if bound("BASE_DIR") else "Path(__file__).resolve().parent"
    identity_secret = _Block(
        what="STRANGLER_IDENTITY_SECRET",
        present=bound("STRANGLER_IDENTITY_SECRET"),
        lines=(
            *read_secrets,
            "# Shared with the proxy and the services: the proxy signs its identity questions.",
            f"STRANGLER_IDENTITY_SECRET = {_SECRETS}[IDENTITY_SECRET.name]",
        ),
        uses=secret_names,
    )
    sync = _Block(
        what="STRANGLER_SYNC",
        present=bound("STRANGLER_SYNC"),
        lines=(
            *(() if not identity_secret.present else read_secrets),
            "# The data sync (strangler.sync): this node, no peers yet. `strangler extract` fills",
            "# peers, outbound and inbound when a service takes over a part of this project.",
            "STRANGLER_SYNC = {",
            f'    "node": "{project}",',
            f'    "secret": {_SECRETS}[SYNC_SECRET.name],',
            f'    "metrics_token": {_SECRETS}[SYNC_METRICS_TOKEN.name],',
            '    "peers": {},',
            '    "outbound": [],',
            '    "inbound": [],',
            "}",
        ),
        uses=secret_names,
    )
    return [
        identity_secret,
        _Block(
            what="STRANGLER_IDENTITY",
            present=bound("STRANGLER_IDENTITY"),
            lines=(
                "# Who a request is, when the proxy asks (strangler.contrib.identity): the default",
                "# resolvers (DRF's token when rest_framework.authtoken is installed, then the",
                "# session); permissions and groups go along, so a service's perms checks decide",
                "# as this project does.",
                'STRANGLER_IDENTITY = {"claims": ["permissions", "groups"]}',
            ),
            uses=(),
        ),
        sync,
        _Block(
            what=_CELERY,
            present=wired,
            lines=(
                "# Every CELERY_* setting the sync's workers need, on this project's own queue",
                "# (strangler.servicekit.celery_wiring); CELERY_BROKER_URL picks the broker",
                "# (unset: the embedded one). A relay pass and a heartbeat every 2 s: the lag",
                "# reads to a few seconds, and a cutover's drain (which holds writes at the",
                "# proxy) waits for a heartbeat only that long.",
                "globals().update(",
                "    sync_celery_settings(",
                f'        env=os.environ, var_dir={var_dir} / "var" / "celery", queue="{project}",',
                "        relay_every=2.0, heartbeat_every=2.0,",
                "    )",
                ")",
            ),
            uses=("os", "sync_celery_settings", *(("Path",) if var_dir != "BASE_DIR" else ())),
        ),
    ]


_IMPORTS = {
    "os": ("os", ""),
    "Path": ("pathlib", "Path"),
    "sync_celery_settings": ("strangler.servicekit.celery_wiring", "sync_celery_settings"),
    "IDENTITY_SECRET": ("strangler.servicekit.secret_settings", "IDENTITY_SECRET"),
    "SYNC_METRICS_TOKEN": ("strangler.servicekit.secret_settings", "SYNC_METRICS_TOKEN"),
    "SYNC_SECRET": ("strangler.servicekit.secret_settings", "SYNC_SECRET"),
    "read_secrets_or_exit": ("strangler.servicekit.secret_settings", "read_secrets_or_exit"),
}


def _import_lines(main: SourceFile, uses: set[str]) -> list[str]:
    """The import statements for the names in ``uses`` that ``main`` does not import yet."""
    imported = main.imported_names()
    modules: dict[str, list[str]] = {}
    for name in sorted(uses):
        module, attribute = _IMPORTS[name]
        if imported.get(name) == (f"{module}.{attribute}" if attribute else module):
            continue
        modules.setdefault(module, []).append(attribute)
    lines = []
    for module, attributes in sorted(modules.items()):
        if attributes == [""]:
            lines.append(f"import {module}")
        elif len(line := f"from {module} import {', '.join(attributes)}") <= _LINE_CHARS:
            lines.append(line)
        else:
            lines.append(
                f"from {module} import (\n" + "".join(f"    {a},\n" for a in attributes) + ")"
            )
    return lines


def _own_celery_settings(sources: Sequence[SourceFile]) -> tuple[str, int, str] | None:
    """Where and why the Celery wiring cannot be added: the settings set ``CELERY_*`` names of
    their own (which ``sync_celery_settings`` would override); ``None`` when they set none."""
    for source in sources:
        for statement in ast.walk(source.tree):
            if isinstance(statement, ast.Assign):
                for target in statement.targets:
                    if isinstance(target, ast.Name) and target.id.startswith("CELERY_"):
                        return (
                            source.relative,
                            statement.lineno,
                            f"the settings set {target.id}: merge your "
                            "CELERY_* settings with globals().update(sync_celery_settings(env="
                            f"os.environ, var_dir=..., queue=...)) "
                            "(strangler.servicekit.celery_wiring), yours after it",
                        )
    return None


def _quoted(text: str, quote: str) -> str:
    # The generated lines use double quotes only in string literals, never in comments.
    return text if quote == '"' else text.replace('"', quote)
