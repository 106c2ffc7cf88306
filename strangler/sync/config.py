"""``settings.STRANGLER_SYNC`` read once into frozen dataclasses (docs/sync.md, "Registration").

``sync_settings()`` validates the shape and fails with ``ImproperlyConfigured`` naming the
entry and the field (``STRANGLER_SYNC['outbound'][1]['to']: ...``). The app's ``ready()`` calls
it, and ``resolve_models()`` which also checks that every model label names a model, so a bad
registration stops the process at start, not at the first relay. Columns are not checked
here: a migration may legitimately add one before the registration follows, so that is
``sync_check``'s and the relay's job (the stream pauses, nothing is lost).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models

__all__ = [
    "DEFAULT_RETENTION_SECONDS",
    "SETTING",
    "InboundTable",
    "OutboundTable",
    "PeerConfig",
    "SyncSettings",
    "model_for",
    "resolve_models",
    "sync_settings",
]

SETTING = "STRANGLER_SYNC"
# Changes every peer has applied are kept this long before ``prune`` deletes them: a week
# covers a restore of a receiver from last night's backup followed by a replay.
DEFAULT_RETENTION_SECONDS = 7 * 24 * 3600
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class PeerConfig:
    name: str
    url: str


@dataclass(frozen=True)
class OutboundTable:
    """A table this node captures and sends to ``peer``; ``fields`` are the columns sent."""

    where: str
    model: str
    peer: str
    fields: tuple[str, ...]
    exclude: tuple[str, ...]
    enabled: bool


@dataclass(frozen=True)
class InboundTable:
    """A table this node accepts from ``source``; ``table`` is the sender's table name."""

    where: str
    source: str
    table: str
    model: str
    field_map: tuple[tuple[str, str], ...]

    def local_name(self, column: str) -> str:
        """The local field or column a sender's column lands in."""
        return dict(self.field_map).get(column, column)


@dataclass(frozen=True)
class SyncSettings:
    node: str
    secret: str
    peers: tuple[PeerConfig, ...]
    outbound: tuple[OutboundTable, ...]
    inbound: tuple[InboundTable, ...]
    retention_seconds: int
    # Prometheus' bearer token for ``/internal/sync/metrics``; empty: signed calls only.
    metrics_token: str = ""

    def peer(self, name: str) -> PeerConfig | None:
        return next((peer for peer in self.peers if peer.name == name), None)

    def outbound_to(self, peer: str) -> tuple[OutboundTable, ...]:
        return tuple(entry for entry in self.outbound if entry.peer == peer)

    def stream_peers(self) -> tuple[str, ...]:
        """Peers this node sends to, in registration order."""
        return tuple(dict.fromkeys(entry.peer for entry in self.outbound))

    def stream_enabled(self, peer: str) -> bool:
        entries = self.outbound_to(peer)
        return bool(entries) and entries[0].enabled

    def inbound_for(self, source: str, table: str) -> InboundTable | None:
        return next((e for e in self.inbound if e.source == source and e.table == table), None)


def model_for(label: str) -> type[models.Model]:
    """The model named ``app_label.ModelName`` (validated at start by ``resolve_models``)."""
    return apps.get_model(label)


@functools.cache
def sync_settings() -> SyncSettings:
    """The registration, parsed once per process (re-read when a test overrides it)."""
    raw = getattr(settings, SETTING, None)
    if not isinstance(raw, Mapping):
        raise ImproperlyConfigured(
            f"{SETTING} is not set: add a dict with node, secret, peers, outbound and inbound "
            "(docs/sync.md, 'Registration')."
        )
    return _parse(raw)


def resolve_models() -> None:
    """Fail unless every model label names an installed model (needs the app registry)."""
    config = sync_settings()
    entries: list[OutboundTable | InboundTable] = [*config.outbound, *config.inbound]
    for entry in entries:
        try:
            model_for(entry.model)
        except (LookupError, ValueError):
            raise ImproperlyConfigured(
                f"{entry.where}['model']: {entry.model!r} is not an installed model "
                "(write 'app_label.ModelName')."
            ) from None


def _clear_cache(*, setting: str, **_: Any) -> None:
    if setting == SETTING:
        sync_settings.cache_clear()


setting_changed.connect(_clear_cache, dispatch_uid="strangler_sync_config")


def _parse(raw: Mapping[str, Any]) -> SyncSettings:
    where = SETTING
    node = _name(raw, "node", where)
    secret = raw.get("secret")
    if not isinstance(secret, str) or not secret:
        raise ImproperlyConfigured(
            f"{where}['secret']: set a non-empty string shared by both nodes "
            "(e.g. from STRANGLER_SYNC_SECRET)."
        )
    peers = _peers(raw.get("peers", {}), f"{where}['peers']", node)
    names = tuple(peer.name for peer in peers)
    outbound = tuple(
        _outbound(entry, f"{where}['outbound'][{i}]", names)
        for i, entry in enumerate(_list(raw, "outbound", where))
    )
    inbound = tuple(
        _inbound(entry, f"{where}['inbound'][{i}]", names)
        for i, entry in enumerate(_list(raw, "inbound", where))
    )
    _check_unique(outbound, inbound)
    retention = raw.get("retention_seconds", DEFAULT_RETENTION_SECONDS)
    if isinstance(retention, bool) or not isinstance(retention, int) or retention < 0:
        raise ImproperlyConfigured(f"{where}['retention_seconds']: expected seconds >= 0.")
    metrics_token = raw.get("metrics_token", "")
    if not isinstance(metrics_token, str):
        raise ImproperlyConfigured(
            f"{where}['metrics_token']: expected a string (e.g. from STRANGLER_SYNC_METRICS_TOKEN)."
        )
    return SyncSettings(
        node=node,
        secret=secret,
        peers=peers,
        outbound=outbound,
        inbound=inbound,
        retention_seconds=retention,
        metrics_token=metrics_token,
    )


def _name(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not _NAME.match(value):
        raise ImproperlyConfigured(
            f"{where}[{key!r}]: expected a name of letters, digits, '_', '.', '-' (got {value!r})."
        )
    return value


def _list(raw: Mapping[str, Any], key: str, where: str) -> list[Mapping[str, Any]]:
    value = raw.get(key, [])
    if not isinstance(value, list | tuple) or not all(isinstance(e, Mapping) for e in value):
        raise ImproperlyConfigured(f"{where}[{key!r}]: expected a list of dicts.")
    return list(value)


def _peers(raw: Any, where: str, node: str) -> tuple[PeerConfig, ...]:
    if not isinstance(raw, Mapping):
        raise ImproperlyConfigured(f"{where}: expected a dict of peer name -> {{'url': ...}}.")
    peers = []
    for name, entry in raw.items():
        if not isinstance(name, str) or not _NAME.match(name) or name == node:
            raise ImproperlyConfigured(
                f"{where}[{name!r}]: a peer is another node's name, not this node's."
            )
        url = entry.get("url") if isinstance(entry, Mapping) else None
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ImproperlyConfigured(
                f"{where}[{name!r}]['url']: expected the peer's base URL, http(s)://host:port."
            )
        peers.append(PeerConfig(name=name, url=url.rstrip("/")))
    return tuple(peers)


def _peer_ref(raw: Mapping[str, Any], key: str, where: str, peers: tuple[str, ...]) -> str:
    value = raw.get(key)
    if value not in peers:
        known = ", ".join(peers) or "none"
        raise ImproperlyConfigured(
            f"{where}[{key!r}]: {value!r} is not in {SETTING}['peers'] (peers: {known})."
        )
    return str(value)


def _model_label(raw: Mapping[str, Any], where: str) -> str:
    label = raw.get("model")
    if not isinstance(label, str) or label.count(".") != 1:
        raise ImproperlyConfigured(f"{where}['model']: expected 'app_label.ModelName'.")
    return label


def _columns(raw: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list | tuple) or not all(isinstance(c, str) and c for c in value):
        raise ImproperlyConfigured(f"{where}[{key!r}]: expected a list of column names.")
    return tuple(value)


def _outbound(raw: Mapping[str, Any], where: str, peers: tuple[str, ...]) -> OutboundTable:
    fields = _columns(raw, "fields", where)
    exclude = _columns(raw, "exclude", where)
    if not fields:
        raise ImproperlyConfigured(
            f"{where}['fields']: list the columns to send (the primary key among them)."
        )
    both = sorted(set(fields) & set(exclude))
    if both:
        raise ImproperlyConfigured(
            f"{where}['exclude']: {', '.join(both)} also in 'fields'; a column is one or the other."
        )
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ImproperlyConfigured(f"{where}['enabled']: expected true or false.")
    return OutboundTable(
        where=where,
        model=_model_label(raw, where),
        peer=_peer_ref(raw, "to", where, peers),
        fields=fields,
        exclude=exclude,
        enabled=enabled,
    )


def _inbound(raw: Mapping[str, Any], where: str, peers: tuple[str, ...]) -> InboundTable:
    table = raw.get("table")
    if not isinstance(table, str) or not table:
        raise ImproperlyConfigured(f"{where}['table']: expected the sender's table name.")
    field_map = raw.get("field_map", {})
    if not isinstance(field_map, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in field_map.items()
    ):
        raise ImproperlyConfigured(
            f"{where}['field_map']: expected a dict of sender column -> local column."
        )
    return InboundTable(
        where=where,
        source=_peer_ref(raw, "from", where, peers),
        table=table,
        model=_model_label(raw, where),
        field_map=tuple(sorted(field_map.items())),
    )


def _check_unique(outbound: tuple[OutboundTable, ...], inbound: tuple[InboundTable, ...]) -> None:
    seen: dict[tuple[str, str], str] = {}
    enabled: dict[str, tuple[bool, str]] = {}
    for entry in outbound:
        key = (entry.model, entry.peer)
        if key in seen:
            raise ImproperlyConfigured(
                f"{entry.where}['model']: {entry.model} to {entry.peer} is already {seen[key]}."
            )
        seen[key] = entry.where
        # One cursor per stream: a disabled table inside a running stream would have its
        # changes passed over for good, so a stream is enabled or disabled as a whole.
        first = enabled.setdefault(entry.peer, (entry.enabled, entry.where))
        if first[0] != entry.enabled:
            raise ImproperlyConfigured(
                f"{entry.where}['enabled']: differs from {first[1]}; every table sent to "
                f"{entry.peer!r} shares one stream, enable or disable them together."
            )
    sources: dict[tuple[str, str], str] = {}
    for item in inbound:
        ikey = (item.source, item.table)
        if ikey in sources:
            raise ImproperlyConfigured(
                f"{item.where}['table']: {item.table} from {item.source} is already "
                f"{sources[ikey]}."
            )
        sources[ikey] = item.where
