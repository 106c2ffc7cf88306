"""The control store on PostgreSQL: the route table's live state, write holds, the fleet's
replicas, the audit trail and plan state, shared by every proxy replica and the CLI.

Every change to the table or the holds is one transaction: a compare-and-set on a version,
an audit row, and ``NOTIFY strangler_control`` so replicas listening (``strangler.control.
listen``) reload at once. A replica acknowledges a version by writing it in its row
(``heartbeat``), so a caller can wait until the whole fleet serves a change
(``wait_for_fleet``).

One connection per store, used under a lock: the proxy calls in from threads
(``asyncio.to_thread``), and two transactions must never interleave on one connection. A
broken connection is replaced on the next call; until then calls raise
:class:`StoreUnavailable`.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg.types.json import Jsonb

from strangler.control.errors import StoreUnavailable, StoreUrlInvalid, VersionConflict
from strangler.control.records import (
    AuditRecord,
    FleetAck,
    HoldsRecord,
    ReplicaRecord,
    TableRecord,
)
from strangler.control.schema import NOTIFY_CHANNEL, SCHEMA, SCHEMA_LOCK
from strangler.environment import describe_url

__all__ = [
    "FLEET_POLL_SECONDS",
    "HEARTBEAT_SECONDS",
    "MEMBER_EXPIRY_SECONDS",
    "ControlStore",
    "open_control",
]

# Connecting on a LAN takes milliseconds; five seconds means the database is not there.
CONNECT_TIMEOUT_SECONDS = 5
# Every statement here touches a handful of rows; ten seconds means a lock is stuck.
STATEMENT_TIMEOUT_MS = 10_000
# A store that vanishes without a FIN or RST (a partition, a dead host) is noticed within
# about 5 s, on an idle connection (TCP keepalive: 2 s idle, then 3 probes 1 s apart) and on
# one waiting for an answer (tcp_user_timeout: data unacknowledged for 5 s), rather than the
# kernel's 2 hours and ~15 minutes of retransmissions. Measured in tests/fleet: a query sent
# into a partition failed after 5.7 s with these, and still hung after 40 s without.
# statement_timeout cannot do it: the server never gets the statement.
LINK_TIMEOUTS: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 2,
    "keepalives_interval": 1,
    "keepalives_count": 3,
    "tcp_user_timeout": 5_000,
}
# A replica writes its row this often (and at once on every new table or holds).
HEARTBEAT_SECONDS = 1.0
# A member silent this long is taken to be gone for good (killed without leaving) and is
# pruned: until then it counts, so a cutover waits for it or fails rather than proceeding
# while a replica that missed the hold may still be serving.
MEMBER_EXPIRY_SECONDS = 300.0
# wait_for_fleet reads the replicas' rows this often: a 1 s propagation budget allows 20.
FLEET_POLL_SECONDS = 0.05


def check_url(url: str) -> str:
    if urlsplit(url).scheme not in ("postgres", "postgresql"):
        raise StoreUrlInvalid(
            f"STRANGLER_STORE_URL={describe_url(url)!r}: the shared store is PostgreSQL; give a "
            "postgres://user@host:port/database URL (unset it for the file store of one host)"
        )
    return url


def connect(url: str, *, application_name: str) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(
            check_url(url),
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            application_name=application_name,
            options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
            **LINK_TIMEOUTS,
        )
    except psycopg.Error as exc:
        raise StoreUnavailable(
            f"the control store at {describe_url(url)} cannot be reached: {_first_line(exc)}"
        ) from exc


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def open_control(url: str, *, application_name: str = "strangler") -> ControlStore:
    """A connected store (its schema ensured); raises :class:`StoreUnavailable`."""
    store = ControlStore(url, application_name=application_name)
    store.ensure_schema()
    return store


class ControlStore:
    def __init__(self, url: str, *, application_name: str = "strangler") -> None:
        self.url = check_url(url)
        self.application_name = application_name
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[Any] | None = None

    def __repr__(self) -> str:
        return f"ControlStore({describe_url(self.url)!r})"

    @property
    def where(self) -> str:
        return describe_url(self.url)

    # -- plumbing ---------------------------------------------------------------------
    @contextlib.contextmanager
    def _session(self) -> Iterator[psycopg.Connection[Any]]:
        """The connection under the lock; a database failure becomes StoreUnavailable and
        drops the connection, so the next call connects afresh."""
        with self._lock:
            if self._conn is None or self._conn.closed or self._conn.broken:
                self._conn = connect(self.url, application_name=self.application_name)
            try:
                yield self._conn
            except psycopg.OperationalError as exc:
                self._drop()
                raise StoreUnavailable(
                    f"the control store at {self.where} failed: {_first_line(exc)}"
                ) from exc
            except psycopg.InterfaceError as exc:
                self._drop()
                raise StoreUnavailable(
                    f"the control store at {self.where} failed: {_first_line(exc)}"
                ) from exc

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(psycopg.Error):
                conn.close()

    def close(self) -> None:
        with self._lock:
            self._drop()

    def ensure_schema(self) -> None:
        with self._session() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            conn.execute(SCHEMA)

    def now(self) -> float:
        """The database's clock, the one every heartbeat is stamped with."""
        with self._session() as conn:
            row = conn.execute("SELECT extract(epoch FROM clock_timestamp())::float8").fetchone()
        assert row is not None
        return float(row[0])

    @staticmethod
    def _audit(
        conn: psycopg.Connection[Any],
        *,
        actor: str,
        via: str,
        action: str,
        subject: str,
        before: object,
        after: object,
    ) -> None:
        conn.execute(
            "INSERT INTO strangler_audit (at, actor, via, action, subject, before, after) "
            "VALUES (extract(epoch FROM clock_timestamp()), %s, %s, %s, %s, %s, %s)",
            (actor, via, action, subject, Jsonb(before), Jsonb(after)),
        )

    @staticmethod
    def _notify(conn: psycopg.Connection[Any], kind: str, version: int) -> None:
        # Delivered at commit, to every listener, in commit order.
        conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, f"{kind}:{version}"))

    # -- the route table --------------------------------------------------------------
    def read_table(self) -> TableRecord | None:
        with self._session() as conn:
            row = conn.execute(
                "SELECT version, document, updated_at, updated_by FROM strangler_table"
            ).fetchone()
        return None if row is None else TableRecord(int(row[0]), row[1], row[2], row[3])

    def table_version(self) -> int:
        """The table's version; 0 when the store holds none yet."""
        with self._session() as conn:
            row = conn.execute("SELECT version FROM strangler_table").fetchone()
        return 0 if row is None else int(row[0])

    def seed_table(
        self, text: str, *, actor: str, via: str, source: str
    ) -> tuple[TableRecord, bool]:
        """Put ``text`` in an empty store; ``(the table the store holds, whether it was seeded)``.

        Replicas starting together race here: one seeds, the others get its table."""
        with self._session() as conn, conn.transaction():
            inserted = conn.execute(
                "INSERT INTO strangler_table (id, version, document, updated_at, updated_by) "
                "VALUES (1, 1, %s, extract(epoch FROM clock_timestamp()), %s) "
                "ON CONFLICT (id) DO NOTHING RETURNING version",
                (text, actor),
            ).fetchone()
            if inserted is not None:
                self._audit(
                    conn,
                    actor=actor,
                    via=via,
                    action="seed",
                    subject="table",
                    before=None,
                    after={"source": source, "version": 1},
                )
                self._notify(conn, "table", 1)
            row = conn.execute(
                "SELECT version, document, updated_at, updated_by FROM strangler_table"
            ).fetchone()
        assert row is not None
        return TableRecord(int(row[0]), row[1], row[2], row[3]), inserted is not None

    def write_table(
        self,
        text: str,
        *,
        expected_version: int | None,
        actor: str,
        via: str,
        action: str,
        subject: str,
        before: object = None,
        after: object = None,
    ) -> TableRecord:
        """Replace the table if it is still at ``expected_version`` (``None``: whatever it is,
        for an explicit import); raises :class:`VersionConflict` when another writer won."""
        with self._session() as conn, conn.transaction():
            row = conn.execute("SELECT version FROM strangler_table FOR UPDATE").fetchone()
            current = 0 if row is None else int(row[0])
            if expected_version is not None and current != expected_version:
                raise VersionConflict(
                    f"the route table changed under this change (version {expected_version} was "
                    f"read, the store now has {current}); read it again and retry",
                    current=current,
                )
            version = current + 1
            stamp = conn.execute(
                "INSERT INTO strangler_table (id, version, document, updated_at, updated_by) "
                "VALUES (1, %s, %s, extract(epoch FROM clock_timestamp()), %s) "
                "ON CONFLICT (id) DO UPDATE SET version = excluded.version, "
                "document = excluded.document, updated_at = excluded.updated_at, "
                "updated_by = excluded.updated_by RETURNING updated_at",
                (version, text, actor),
            ).fetchone()
            assert stamp is not None
            self._audit(
                conn,
                actor=actor,
                via=via,
                action=action,
                subject=subject,
                before=before,
                after=after,
            )
            self._notify(conn, "table", version)
        return TableRecord(version, text, float(stamp[0]), actor)

    # -- write holds ------------------------------------------------------------------
    def read_holds(self, *, now: float | None = None) -> HoldsRecord:
        """The holds in force at ``now`` (this host's clock, as the proxy compares them)."""
        now = time.time() if now is None else now
        with self._session() as conn:
            version = conn.execute(
                "SELECT version FROM strangler_versions WHERE name = 'holds'"
            ).fetchone()
            rows = conn.execute(
                "SELECT route, hold_until FROM strangler_holds WHERE hold_until > %s", (now,)
            ).fetchall()
        return HoldsRecord(
            int(version[0]) if version else 0, MappingProxyType({r: float(u) for r, u in rows})
        )

    def holds_version(self) -> int:
        with self._session() as conn:
            row = conn.execute(
                "SELECT version FROM strangler_versions WHERE name = 'holds'"
            ).fetchone()
        return int(row[0]) if row else 0

    def set_hold(self, route: str, until: float, *, actor: str, via: str) -> HoldsRecord:
        """Hold ``route``'s writes until ``until`` (epoch seconds; 0 releases), dropping
        expired holds; the holds now in force, with their new version."""
        now = time.time()
        with self._session() as conn, conn.transaction():
            version_row = conn.execute(
                "UPDATE strangler_versions SET version = version + 1 WHERE name = 'holds' "
                "RETURNING version"
            ).fetchone()
            assert version_row is not None, "ensure_schema() first"
            version = int(version_row[0])
            before = conn.execute(
                "SELECT hold_until FROM strangler_holds WHERE route = %s AND hold_until > %s",
                (route, now),
            ).fetchone()
            conn.execute(
                "DELETE FROM strangler_holds WHERE hold_until <= %s OR route = %s", (now, route)
            )
            if until > now:
                conn.execute(
                    "INSERT INTO strangler_holds (route, hold_until) VALUES (%s, %s)",
                    (route, until),
                )
            rows = conn.execute("SELECT route, hold_until FROM strangler_holds").fetchall()
            self._audit(
                conn,
                actor=actor,
                via=via,
                action="hold" if until > now else "release",
                subject=f"route:{route}",
                before={"hold_until": float(before[0])} if before else None,
                after={"hold_until": until} if until > now else None,
            )
            self._notify(conn, "holds", version)
        return HoldsRecord(version, MappingProxyType({r: float(u) for r, u in rows}))

    # -- the fleet --------------------------------------------------------------------
    def heartbeat(
        self,
        *,
        replica: str,
        admin_url: str,
        public_url: str,
        table_version: int,
        holds_version: int,
        degraded: bool = False,
        detail: str = "",
        started_at: float,
    ) -> None:
        """Write the replica's row: what it serves now (its acknowledgement) and that it lives."""
        with self._session() as conn:
            conn.execute(
                "INSERT INTO strangler_replicas (replica, admin_url, public_url, table_version, "
                "holds_version, degraded, detail, started_at, seen_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, extract(epoch FROM clock_timestamp())) "
                "ON CONFLICT (replica) DO UPDATE SET admin_url = excluded.admin_url, "
                "public_url = excluded.public_url, table_version = excluded.table_version, "
                "holds_version = excluded.holds_version, degraded = excluded.degraded, "
                "detail = excluded.detail, started_at = excluded.started_at, "
                "seen_at = excluded.seen_at",
                (
                    replica,
                    admin_url,
                    public_url,
                    table_version,
                    holds_version,
                    degraded,
                    detail,
                    started_at,
                ),
            )

    def leave(self, replica: str) -> None:
        """A replica stopping cleanly leaves the fleet: nobody waits for it any more."""
        with self._session() as conn:
            conn.execute("DELETE FROM strangler_replicas WHERE replica = %s", (replica,))

    def fleet(self) -> tuple[float, list[ReplicaRecord]]:
        """``(the database's clock, every member)``; members silent for longer than
        ``MEMBER_EXPIRY_SECONDS`` are pruned first."""
        with self._session() as conn, conn.transaction():
            row = conn.execute("SELECT extract(epoch FROM clock_timestamp())::float8").fetchone()
            assert row is not None
            now = float(row[0])
            conn.execute(
                "DELETE FROM strangler_replicas WHERE seen_at < %s", (now - MEMBER_EXPIRY_SECONDS,)
            )
            rows = conn.execute(
                "SELECT replica, admin_url, public_url, table_version, holds_version, degraded, "
                "detail, started_at, seen_at FROM strangler_replicas ORDER BY replica"
            ).fetchall()
        return now, [
            ReplicaRecord(
                replica=r[0],
                admin_url=r[1],
                public_url=r[2],
                table_version=int(r[3]),
                holds_version=int(r[4]),
                degraded=bool(r[5]),
                detail=r[6],
                started_at=float(r[7]),
                seen_at=float(r[8]),
            )
            for r in rows
        ]

    def replicas(self) -> list[ReplicaRecord]:
        return self.fleet()[1]

    def wait_for_fleet(
        self,
        *,
        table_version: int | None = None,
        holds_version: int | None = None,
        timeout: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> FleetAck:
        """Wait until every member serves at least these versions, at most ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            members = self.replicas()
            missing = tuple(
                r
                for r in members
                if (table_version is not None and r.table_version < table_version)
                or (holds_version is not None and r.holds_version < holds_version)
            )
            if not missing or time.monotonic() >= deadline:
                done = {r.replica for r in missing}
                return FleetAck(
                    acknowledged=tuple(r.replica for r in members if r.replica not in done),
                    missing=missing,
                )
            sleep(FLEET_POLL_SECONDS)

    # -- the audit trail --------------------------------------------------------------
    def record(
        self, *, actor: str, via: str, action: str, subject: str, before: object, after: object
    ) -> None:
        with self._session() as conn:
            self._audit(
                conn,
                actor=actor,
                via=via,
                action=action,
                subject=subject,
                before=before,
                after=after,
            )

    def audit(self, *, limit: int = 100, subject: str | None = None) -> list[AuditRecord]:
        """The newest ``limit`` entries (of ``subject``), oldest first."""
        with self._session() as conn:
            rows = conn.execute(
                "SELECT id, at, actor, via, action, subject, before, after FROM strangler_audit "
                "WHERE %s::text IS NULL OR subject = %s ORDER BY id DESC LIMIT %s",
                (subject, subject, limit),
            ).fetchall()
        return [AuditRecord(int(r[0]), float(r[1]), *r[2:]) for r in reversed(rows)]

    # -- plan state -------------------------------------------------------------------
    @contextlib.contextmanager
    def plan_state(
        self, plan: str
    ) -> Iterator[tuple[dict[str, Any] | None, Callable[[dict[str, Any]], None]]]:
        """The plan's state document under a lock held until the block ends (two operators
        never move one plan at once), and a function that saves a new document.

        The lock is a session advisory lock on a connection of its own, so the block may
        use this store (and its NOTIFYs are sent at once, not at the block's end)."""
        conn = connect(self.url, application_name=f"{self.application_name} plan {plan}")
        try:
            try:
                conn.execute("SET statement_timeout = 0")  # waiting for the other operator
                conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (f"strangler_plan:{plan}",))
                conn.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")
                row = conn.execute(
                    "SELECT document FROM strangler_plan_state WHERE plan = %s", (plan,)
                ).fetchone()
            except psycopg.Error as exc:
                raise StoreUnavailable(
                    f"the control store at {self.where} failed: {_first_line(exc)}"
                ) from exc

            def save(document: dict[str, Any]) -> None:
                try:
                    conn.execute(
                        "INSERT INTO strangler_plan_state (plan, document, updated_at) "
                        "VALUES (%s, %s, extract(epoch FROM clock_timestamp())) "
                        "ON CONFLICT (plan) DO UPDATE SET document = excluded.document, "
                        "updated_at = excluded.updated_at",
                        (plan, Jsonb(document)),
                    )
                except psycopg.Error as exc:
                    raise StoreUnavailable(
                        f"the control store at {self.where} failed: {_first_line(exc)}"
                    ) from exc

            yield (json.loads(json.dumps(row[0])) if row else None), save
        finally:
            with contextlib.suppress(psycopg.Error):
                conn.close()  # the session ends: its advisory lock is released

    def plan_states(self) -> dict[str, dict[str, Any]]:
        with self._session() as conn:
            rows = conn.execute("SELECT plan, document FROM strangler_plan_state").fetchall()
        return {str(plan): document for plan, document in rows}
