"""The shared control plane: one store that every proxy replica, the CLI and the plans reach.

Named by one setting, ``STRANGLER_STORE_URL`` (a ``postgres://`` URL). Unset, the toolkit
keeps its embedded store for one host: the route table file, the holds file beside it, plan
state files and the comparison results' SQLite file. Set, the store holds the route table's
live state, write holds, the fleet's replicas and what each serves, the audit trail, plan
state and comparison results; a table file only seeds an empty store.

PostgreSQL, because a team migrating a Django monolith already runs it, and it gives what a
control plane needs in one engine: transactions for versioned compare-and-set, LISTEN/NOTIFY
to push a change to every replica, and durable rows for the audit trail.
"""

from __future__ import annotations

from strangler.control.errors import (
    StoreError,
    StoreUnavailable,
    StoreUrlInvalid,
    VersionConflict,
)
from strangler.control.postgres import (
    HEARTBEAT_SECONDS,
    MEMBER_EXPIRY_SECONDS,
    ControlStore,
    open_control,
)
from strangler.control.records import (
    LAG_AFTER_SECONDS,
    AuditRecord,
    FleetAck,
    HoldsRecord,
    ReplicaRecord,
    TableRecord,
)
from strangler.control.schema import NOTIFY_CHANNEL
from strangler.environment import STORE_URL_VARIABLE, describe_url, store_url

__all__ = [
    "HEARTBEAT_SECONDS",
    "LAG_AFTER_SECONDS",
    "MEMBER_EXPIRY_SECONDS",
    "NOTIFY_CHANNEL",
    "STORE_URL_VARIABLE",
    "AuditRecord",
    "ControlStore",
    "FleetAck",
    "HoldsRecord",
    "ReplicaRecord",
    "StoreError",
    "StoreUnavailable",
    "StoreUrlInvalid",
    "TableRecord",
    "VersionConflict",
    "describe_url",
    "open_control",
    "store_url",
]
