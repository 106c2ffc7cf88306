"""The proxy's process settings, read once from the environment into a frozen object.

A malformed variable stops start-up with the variable's name; the route table itself is a
separate file (``STRANGLER_ROUTES``), reloaded while the proxy runs, or, with
``STRANGLER_STORE_URL`` set, the shared control store's table (the file then only seeds an
empty store): the proxy runs as one replica of a fleet, each worker process a member of its
own (``<PROXY_REPLICA_ID>/<worker index>``). The identity secret and
the admin token go through the services' check (``strangler.servicekit.secret_settings``, no
Django there): outside demo mode (``STRANGLER_DEMO=1``) a missing, short or published one
stops start-up.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from strangler.control import StoreUrlInvalid, store_url
from strangler.control.postgres import check_url
from strangler.environment import var_dir
from strangler.proxy.edge_limits import (
    HEADER_TIMEOUT_SECONDS,
    KEEPALIVE_TIMEOUT_SECONDS,
    MAX_CONNECTIONS_PER_WORKER,
    MAX_HEADER_BYTES,
    MAX_HEADERS,
)
from strangler.servicekit.secret_settings import (
    IDENTITY_SECRET,
    PROXY_ADMIN_TOKEN,
    PROXY_SYNC_SECRET,
    SecretRefused,
    read_secrets,
)

__all__ = ["EventLoop", "ProxySettings", "SettingsError", "advertised_host"]

EventLoop = Literal["uvloop", "asyncio"]
# The default first.
_LOG_LEVELS = ("INFO", "DEBUG", "WARNING", "ERROR", "CRITICAL")


class SettingsError(ValueError):
    """A variable that cannot be used; the message names it."""


def _int(env: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: expected a whole number") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={value}: expected {low}..{high}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: expected a number of seconds") from None
    if value <= 0:
        raise SettingsError(f"{name}={value}: must be positive")
    return value


def _choice(
    env: Mapping[str, str], name: str, choices: tuple[str, ...], *, fold_case: bool = False
) -> str:
    """One of ``choices`` (the first is the default); ``fold_case``: given in any case."""
    raw = env.get(name) or choices[0]
    value = raw.upper() if fold_case else raw
    if value not in choices:
        raise SettingsError(f"{name}={raw!r}: expected one of {', '.join(choices)}")
    return value


# RFC 7230's token: what a cookie's name and an auth scheme may be.
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def _token(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name) or default
    if not _TOKEN.match(value):
        raise SettingsError(f"{name}={value!r}: expected a cookie name (letters, digits, -_.)")
    return value


def _schemes(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """Comma-separated ``Authorization`` schemes, or ``*`` for every one."""
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    schemes = tuple(part.strip() for part in raw.split(",") if part.strip())
    for scheme in schemes:
        if scheme != "*" and not _TOKEN.match(scheme):
            raise SettingsError(
                f"{name}={raw!r}: {scheme!r} is not a scheme name; expected e.g. Token,Bearer or *"
            )
    return schemes


# Addresses that mean "every interface": useless to another host as an address to reach.
_EVERY_INTERFACE = frozenset({"", "0.0.0.0", "::", "[::]", "*"})  # noqa: S104 - a comparison


def advertised_host(host: str) -> str:
    """The host other machines reach a server bound to ``host`` at: the bind address itself,
    or this machine's name when it binds every interface."""
    return socket.gethostname() if host in _EVERY_INTERFACE else host


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _advertise_url(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip().rstrip("/")
    if value and not re.fullmatch(r"https?://[^/\s]+", value):
        raise SettingsError(
            f"{name}={value!r}: expected the base URL other hosts reach this replica's admin "
            "API at, e.g. http://proxy-0.proxy:8001 (no path)"
        )
    return value


def _replica_id(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip() or socket.gethostname()
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}", value):
        raise SettingsError(
            f"{name}={value!r}: expected a name of letters, digits and . _ : - (at most 100), "
            "unique in the fleet (e.g. the pod's name)"
        )
    return value


@dataclass(frozen=True)
class ProxySettings:
    routes_path: Path = Path("routes.yaml")
    host: str = "127.0.0.1"
    port: int = 8000
    admin_port: int = 8001
    # Without a token the admin API serves reads and metrics but refuses every change
    # (``from_env`` always has one: it refuses to start without).
    admin_token: str = ""
    # Shared with the services (they verify the identity header) and with the monolith's
    # internal identity endpoint (it authenticates the proxy). Empty: no identity is passed.
    identity_secret: str = ""
    # What the proxy asks the monolith's identity endpoint about: the session cookie under
    # the monolith's SESSION_COOKIE_NAME, and the Authorization schemes its resolvers read
    # (strangler.contrib.identity); "*" sends every scheme.
    identity_session_cookie: str = "sessionid"
    identity_schemes: tuple[str, ...] = ("Token",)
    # Signs the proxy's reads of the sync nodes' status, which decide whether a route may give
    # its writes to an extracted service (proxy.write_guard). Empty: no route may.
    sync_secret: str = ""
    trusted_proxies: tuple[str, ...] = ()
    # Largest request body accepted; larger ones are answered 413 before any byte goes on.
    max_body_bytes: int = 10 * 1024 * 1024
    # A client that sends nothing of its body for this long is cut off (slowloris).
    client_body_timeout: float = 30.0
    # Bodies up to this size are read whole at the proxy before any upstream is asked, as
    # nginx does (proxy_request_buffering), so a slow client never ties up a worker of the
    # monolith; larger ones are refused (413) unless the route streams request bodies. 1 MiB
    # is nginx's default client_max_body_size.
    body_buffer_bytes: int = 1024 * 1024
    # The whole of a buffered body must arrive within this long, however it trickles in.
    client_body_total_timeout: float = 60.0
    # The edge (proxy.edge_limits says why each default): a head's time, an idle connection's,
    # client connections per worker, a head's size and field count.
    header_timeout: float = HEADER_TIMEOUT_SECONDS
    keepalive_timeout: float = KEEPALIVE_TIMEOUT_SECONDS
    max_connections: int = MAX_CONNECTIONS_PER_WORKER
    max_header_bytes: int = MAX_HEADER_BYTES
    max_headers: int = MAX_HEADERS
    workers: int = 1
    # Seconds between active health checks of each upstream.
    health_interval: float = 2.0
    # Where the proxy writes files (the request capture), shared with the other components.
    var_dir: Path = Path("var")
    # The root logger's level, by name, as the services take it.
    log_level: str = "INFO"
    # One JSON line a request on the ``proxy.access`` logger; off, only warnings and worse.
    access_log: bool = True
    # uvloop (libuv) unless "asyncio" asks for the standard loop (to rule uvloop out).
    event_loop: EventLoop = "uvloop"
    # The shared control store (strangler.control); None: the table file of one host.
    store_url: str | None = None
    # This replica's name in the fleet, unique there (a pod's name; default: the hostname).
    replica_id: str = field(default_factory=socket.gethostname)
    # The base URL other hosts reach this replica's admin API at; empty: derived from the
    # bind address (see ``admin_url``).
    advertise_url: str = ""
    # Which of ``workers`` processes this is: set by strangler.proxy.server for each worker,
    # never from the environment. Each worker is a member of the fleet of its own.
    worker_index: int = 0

    @property
    def member(self) -> str:
        """This worker's name in the fleet: ``<replica id>/<worker index>``."""
        return f"{self.replica_id}/{self.worker_index}"

    @property
    def admin_url(self) -> str:
        """Where other hosts (the CLI, plans reading /metrics) reach this admin API."""
        host = _url_host(advertised_host(self.host))
        return self.advertise_url or f"http://{host}:{self.admin_port}"

    @property
    def public_url(self) -> str:
        """Where other hosts reach this replica's public port, on the advertised host."""
        host = urlsplit(self.admin_url).hostname or advertised_host(self.host)
        return f"http://{_url_host(host)}:{self.port}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ProxySettings:
        env = os.environ if env is None else env
        try:
            secrets = read_secrets(env, (IDENTITY_SECRET, PROXY_ADMIN_TOKEN, PROXY_SYNC_SECRET))
        except SecretRefused as exc:
            raise SettingsError(str(exc)) from None
        trusted = tuple(
            p.strip() for p in env.get("PROXY_TRUSTED_PROXIES", "").split(",") if p.strip()
        )
        settings = cls(
            routes_path=Path(env.get("STRANGLER_ROUTES", "routes.yaml")),
            host=env.get("PROXY_HOST", "127.0.0.1"),
            port=_int(env, "PROXY_PORT", 8000, low=0, high=65535),
            admin_port=_int(env, "PROXY_ADMIN_PORT", 8001, low=0, high=65535),
            admin_token=secrets[PROXY_ADMIN_TOKEN.name],
            identity_secret=secrets[IDENTITY_SECRET.name],
            sync_secret=secrets[PROXY_SYNC_SECRET.name],
            identity_session_cookie=_token(env, "PROXY_IDENTITY_SESSION_COOKIE", "sessionid"),
            identity_schemes=_schemes(env, "PROXY_IDENTITY_SCHEMES", ("Token",)),
            trusted_proxies=trusted,
            max_body_bytes=_int(env, "PROXY_MAX_BODY_BYTES", 10 * 1024 * 1024, low=0, high=2**40),
            client_body_timeout=_float(env, "PROXY_CLIENT_BODY_TIMEOUT", 30.0),
            body_buffer_bytes=_int(
                env, "PROXY_BODY_BUFFER_BYTES", 1024 * 1024, low=0, high=1024 * 1024 * 1024
            ),
            client_body_total_timeout=_float(env, "PROXY_CLIENT_BODY_TOTAL_TIMEOUT", 60.0),
            header_timeout=_float(env, "PROXY_HEADER_TIMEOUT", HEADER_TIMEOUT_SECONDS),
            keepalive_timeout=_float(env, "PROXY_KEEPALIVE_TIMEOUT", KEEPALIVE_TIMEOUT_SECONDS),
            max_connections=_int(
                env, "PROXY_MAX_CONNECTIONS", MAX_CONNECTIONS_PER_WORKER, low=1, high=1_000_000
            ),
            # Below 1 KiB not even a browser's ordinary head fits; above 1 MiB aiohttp's own
            # line and field limits refuse first.
            max_header_bytes=_int(
                env, "PROXY_MAX_HEADER_BYTES", MAX_HEADER_BYTES, low=1024, high=1024 * 1024
            ),
            max_headers=_int(env, "PROXY_MAX_HEADERS", MAX_HEADERS, low=10, high=1000),
            workers=_int(env, "PROXY_WORKERS", 1, low=1, high=256),
            health_interval=_float(env, "PROXY_HEALTH_INTERVAL", 2.0),
            var_dir=var_dir(env),
            log_level=_choice(env, "LOG_LEVEL", _LOG_LEVELS, fold_case=True),
            access_log=_choice(env, "PROXY_ACCESS_LOG", ("1", "0")) == "1",
            event_loop=(
                "asyncio"
                if _choice(env, "PROXY_EVENT_LOOP", ("uvloop", "asyncio")) == "asyncio"
                else "uvloop"
            ),
            store_url=_store_url(env),
            replica_id=_replica_id(env, "PROXY_REPLICA_ID"),
            advertise_url=_advertise_url(env, "PROXY_ADVERTISE_URL"),
        )
        from strangler.proxy.headers import TrustedProxies

        try:
            TrustedProxies(settings.trusted_proxies)
        except ValueError as exc:
            raise SettingsError(f"PROXY_TRUSTED_PROXIES: {exc}") from None
        return settings


def _store_url(env: Mapping[str, str]) -> str | None:
    url = store_url(env)
    if url is not None:
        try:
            check_url(url)
        except StoreUrlInvalid as exc:
            raise SettingsError(exc.message) from None
    return url
