"""Simulated hosts for the fleet tests: Linux network namespaces joined by veth links.

Each host is a namespace with two interfaces, as a proxy host in a data centre has:
- ``eth0`` on the service LAN, a bridge in the root namespace (``10.231.K.0/24``; the root
  namespace is ``10.231.K.1``, host ``i`` is ``10.231.K.(10+i)``). Clients, the hosts'
  admin and public ports and the upstreams (servers of the root namespace listening on the
  bridge's address) meet there; hosts reach each other too.
- ``eth1``, a point-to-point link to the store network (``10.232.K.(4i)/30``): the root side
  ``10.232.K.(4i+1)`` is where the host finds its PostgreSQL (a relay, ``tests.fleet.relay``,
  forwards to the real server on 127.0.0.1, which is not reconfigured).

Cutting a host off the store (:meth:`Network.partition`) takes the root side of its store
link down: every packet the host sends there is dropped silently (no RST, no ICMP: the
neighbour entry is permanent, so no ARP failure is reported either), exactly as a partition
looks from the host. A connection learns of it only by its own timeouts (TCP keepalive,
``tcp_user_timeout``), the hard case for a replica. The service LAN stays up: clients still
reach the host, and the host its upstreams. :meth:`Network.heal` brings the link back.

``K`` is a third octet that no address or route of this machine uses, picked under a lock
file so that parallel runs never pick the same one; every name carries a random tag, and
namespace names carry the creating process's id, so a run cleans up what a killed run left
(namespaces of dead processes, links of tags no live run owns) without touching a live one.

The machine must allow namespaces (root, or CAP_NET_ADMIN, and ``ip``): where it refuses,
the tests skip with the reason, unless ``STRANGLER_REQUIRE_NETNS=1`` (CI), where they fail.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["REQUIRE_VARIABLE", "Host", "Network", "network", "require_namespaces"]

REQUIRE_VARIABLE = "STRANGLER_REQUIRE_NETNS"
NAMESPACE_PREFIX = "strangler-fleet"
# Root-namespace link names must fit IFNAMSIZ (15 characters): "stf" + 4 hex + a suffix.
_LINK_PREFIX = "stf"
_NAMESPACE_NAME = re.compile(rf"^{NAMESPACE_PREFIX}-(\d+)-([0-9a-f]{{4}})-")
_LINK_NAME = re.compile(rf"^{_LINK_PREFIX}([0-9a-f]{{4}})(br|l\d+|s\d+)$")
_LAN_OCTETS, _STORE_OCTETS = "10.231", "10.232"
# Every `ip` call is a netlink round trip: milliseconds. Ten seconds means a wedged kernel.
_IP_TIMEOUT_SECONDS = 10
# A namespace's processes get this long to end on SIGTERM before SIGKILL.
_STOP_SECONDS = 10.0
_LOCK_PATH = Path(tempfile.gettempdir()) / "strangler-fleet-netns.lock"


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["ip", *args], capture_output=True, text=True, timeout=_IP_TIMEOUT_SECONDS, check=False
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"`ip {' '.join(args)}` exited {done.returncode}: {done.stderr.strip()}")
    return done


def _refusal() -> str | None:
    """Why this machine cannot make namespaces, or ``None`` when it can."""
    if not sys.platform.startswith("linux"):
        return f"network namespaces are Linux's; this is {sys.platform}"
    if shutil.which("ip") is None:
        return "the `ip` command (iproute2) is not installed"
    if os.geteuid() != 0 and not _has_net_admin():
        return "not root and without CAP_NET_ADMIN"
    probe = f"{NAMESPACE_PREFIX}-{os.getpid()}-{secrets.token_hex(2)}-probe"
    made = _ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"`ip netns add` refused: {made.stderr.strip()}"
    try:
        veth = _ip("link", "add", "stfprobe0", "type", "veth", "peer", "name", "eth0",
                   "netns", probe, check=False)  # fmt: skip
        if veth.returncode != 0:
            return f"`ip link add type veth` refused: {veth.stderr.strip()}"
        _ip("link", "del", "stfprobe0", check=False)
    finally:
        _ip("netns", "del", probe, check=False)
    return None


def _has_net_admin() -> bool:
    cap_net_admin = 12
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) >> cap_net_admin & 1)
    return False


def require_namespaces() -> None:
    """Skip (loudly), or fail under ``STRANGLER_REQUIRE_NETNS=1``, where namespaces are refused."""
    reason = _refusal()
    if reason is None:
        return
    message = (
        f"FLEET TESTS NOT RUN: this machine refuses network namespaces ({reason}); they need "
        "root or CAP_NET_ADMIN and iproute2"
    )
    if os.environ.get(REQUIRE_VARIABLE) == "1":
        pytest.fail(f"{message} ({REQUIRE_VARIABLE}=1: not skipped)")
    pytest.skip(f"{message}; set {REQUIRE_VARIABLE}=1 to make this a failure")


@dataclass(frozen=True)
class Host:
    """One simulated host: a namespace with a LAN address and a link to the store network."""

    name: str
    namespace: str
    address: str
    """On the service LAN: where the host's servers listen and its requests come from."""
    store_gateway: str
    """The root side of its store link: where the host reaches PostgreSQL (the relay)."""
    store_link: str
    """The root side's interface name: taken down to cut the host off the store."""

    def command(self, args: Sequence[str]) -> list[str]:
        """``args`` run inside the host (``ip netns exec`` execs it: the pid is the command's)."""
        return ["ip", "netns", "exec", self.namespace, *args]

    def run(self, args: Sequence[str], *, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(args), capture_output=True, text=True, timeout=timeout, check=False
        )


class Network:
    """Hosts on one LAN with the root namespace, each with its own store link."""

    def __init__(self, tag: str, octet: int, hosts: list[Host]) -> None:
        self.tag = tag
        self.octet = octet
        self.hosts = hosts
        self.bridge = f"{_LINK_PREFIX}{tag}br"
        self.services_address = f"{_LAN_OCTETS}.{octet}.1"
        """The root namespace on the LAN: the upstreams listen here."""

    def host(self, name: str) -> Host:
        return next(h for h in self.hosts if h.name == name)

    def host_of(self, address: str) -> str | None:
        """The name of the host whose LAN address this is."""
        return next((h.name for h in self.hosts if h.address == address), None)

    def partition(self, host: Host) -> None:
        """Cut ``host`` off the store network: its packets there vanish, nothing answers."""
        _ip("link", "set", host.store_link, "down")

    def heal(self, host: Host) -> None:
        """Bring ``host``'s store link back."""
        _ip("link", "set", host.store_link, "up")

    def is_partitioned(self, host: Host) -> bool:
        (link,) = json.loads(_ip("-j", "link", "show", host.store_link).stdout)
        return "UP" not in link["flags"]


@contextlib.contextmanager
def _setup_lock() -> Iterator[None]:
    with _LOCK_PATH.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _namespaces() -> list[str]:
    return [entry["name"] for entry in json.loads(_ip("-j", "netns", "list").stdout or "[]")]


def _clean_stale() -> None:
    """Remove what runs that died left behind: their namespaces, then orphaned links."""
    live_tags: set[str] = set()
    for name in _namespaces():
        match = _NAMESPACE_NAME.match(name)
        if match is None:
            continue
        if _alive(int(match.group(1))):
            live_tags.add(match.group(2))
        else:
            _stop_processes(name)
            _ip("netns", "del", name, check=False)
    for link in json.loads(_ip("-j", "link", "show").stdout):
        match = _LINK_NAME.match(link["ifname"])
        if match is not None and match.group(1) not in live_tags:
            _ip("link", "del", link["ifname"], check=False)


def _free_octet() -> int:
    """A third octet unused by any address or route here, in both the LAN and store ranges."""
    used: set[int] = set()
    text = (
        _ip("-4", "-o", "addr", "show").stdout + _ip("-4", "route", "show", "table", "all").stdout
    )
    for prefix in (_LAN_OCTETS, _STORE_OCTETS):
        used.update(int(m) for m in re.findall(rf"\b{re.escape(prefix)}\.(\d+)\.", text))
    free = [octet for octet in range(1, 255) if octet not in used]
    if not free:
        raise RuntimeError(f"every {_LAN_OCTETS}.X.0/24 is in use on this machine")
    return random.choice(free)


def _stop_processes(namespace: str) -> None:
    """End the processes still inside ``namespace`` (all started by this harness's runs)."""
    pids = [int(p) for p in _ip("netns", "pids", namespace, check=False).stdout.split()]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    end = time.monotonic() + _STOP_SECONDS
    while pids and time.monotonic() < end:
        pids = [pid for pid in pids if _alive(pid)]
        time.sleep(0.05)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _make_host(tag: str, octet: int, index: int, bridge: str) -> Host:
    name = f"host{index}"
    namespace = f"{NAMESPACE_PREFIX}-{os.getpid()}-{tag}-{name}"
    lan, store = f"{_LINK_PREFIX}{tag}l{index}", f"{_LINK_PREFIX}{tag}s{index}"
    address = f"{_LAN_OCTETS}.{octet}.{10 + index}"
    gateway, inside = (f"{_STORE_OCTETS}.{octet}.{4 * index + n}" for n in (1, 2))
    _ip("netns", "add", namespace)
    _ip("-n", namespace, "link", "set", "lo", "up")
    _ip("link", "add", lan, "type", "veth", "peer", "name", "eth0", "netns", namespace)
    _ip("link", "set", lan, "master", bridge, "up")
    _ip("-n", namespace, "addr", "add", f"{address}/24", "dev", "eth0")
    _ip("-n", namespace, "link", "set", "eth0", "up")
    _ip("link", "add", store, "type", "veth", "peer", "name", "eth1", "netns", namespace)
    _ip("addr", "add", f"{gateway}/30", "dev", store)
    _ip("link", "set", store, "up")
    _ip("-n", namespace, "addr", "add", f"{inside}/30", "dev", "eth1")
    _ip("-n", namespace, "link", "set", "eth1", "up")
    # A permanent neighbour: while the link is cut, ARP would fail and the kernel would report
    # "host unreachable" at once; a partition reports nothing.
    mac = Path(f"/sys/class/net/{store}/address").read_text().strip()
    _ip("-n", namespace, "neigh", "replace", gateway, "lladdr", mac, "dev", "eth1",
        "nud", "permanent")  # fmt: skip
    return Host(name, namespace, address, gateway, store)


def _tear_down(namespaces: list[str], bridge: str | None) -> None:
    for namespace in namespaces:
        _stop_processes(namespace)
        _ip("netns", "del", namespace, check=False)  # its veth pairs go with it
    if bridge is not None:
        _ip("link", "del", bridge, check=False)


@contextlib.contextmanager
def network(hosts: int) -> Iterator[Network]:
    """``hosts`` namespaces on a fresh LAN and store network; all removed at the end."""
    require_namespaces()
    tag = secrets.token_hex(2)
    made: list[str] = []
    bridge: str | None = None
    try:
        with _setup_lock():
            _clean_stale()
            octet = _free_octet()
            bridge = f"{_LINK_PREFIX}{tag}br"
            _ip("link", "add", bridge, "type", "bridge")
            _ip("addr", "add", f"{_LAN_OCTETS}.{octet}.1/24", "dev", bridge)
            _ip("link", "set", bridge, "up")
            members: list[Host] = []
            for index in range(1, hosts + 1):
                made.append(f"{NAMESPACE_PREFIX}-{os.getpid()}-{tag}-host{index}")
                members.append(_make_host(tag, octet, index, bridge))
        yield Network(tag, octet, members)
    finally:
        with _setup_lock():
            _tear_down([n for n in made if n in _namespaces()], bridge)
