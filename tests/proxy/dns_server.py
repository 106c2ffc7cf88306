"""A real DNS server for tests: Debian's dnsmasq, started by the test on 127.0.0.1 and a free
port with a configuration file of its own (never the system's, never its service).

It publishes A records (``a``: name -> addresses) and SRV records (``srv``). dnsmasq reads
its hosts file again on SIGHUP, but not its configuration file, where SRV records live; so
``publish`` sends SIGHUP when only A records changed and restarts the server (same port)
when SRV records did, then waits until the server answers the new records. ``unglued`` A
records are served from the configuration (``address=``), which dnsmasq leaves out of an SRV
answer's additional section: a resolver must look those targets up itself.

Without dnsmasq the tests using it skip, loudly, unless ``STRANGLER_REQUIRE_DNSMASQ=1``
(CI sets it): then they fail. ``apt-get install -y dnsmasq-base`` installs it.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rdatatype
import pytest

__all__ = ["REQUIRE_VARIABLE", "DnsServer", "SrvRecord", "dnsmasq_or_skip"]

REQUIRE_VARIABLE = "STRANGLER_REQUIRE_DNSMASQ"
# dnsmasq answers its first query within ~50 ms of starting here; 10 s is a hung start.
START_SECONDS = 10.0
TTL_SECONDS = 1
# How often a starting server is asked whether it serves the records yet (and how long one
# question waits: on loopback an answer takes well under a millisecond).
_POLL_SECONDS = 0.05


def dnsmasq_or_skip() -> str:
    """dnsmasq's path; without it, skip (or fail where ``STRANGLER_REQUIRE_DNSMASQ=1``)."""
    found = shutil.which("dnsmasq") or shutil.which("dnsmasq", path="/usr/sbin:/sbin")
    if found:
        return found
    reason = (
        "dnsmasq is not installed: the DNS discovery tests against a real DNS server did NOT "
        "run (apt-get install -y dnsmasq-base)"
    )
    if os.environ.get(REQUIRE_VARIABLE) == "1":
        pytest.fail(f"{reason}; {REQUIRE_VARIABLE}=1 requires them")
    pytest.skip(reason)


@dataclass(frozen=True)
class SrvRecord:
    name: str  # e.g. catalog.service.consul
    target: str
    port: int
    priority: int = 1
    weight: int = 1


def _free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 (dnsmasq listens on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no port free for both UDP and TCP")


@dataclass
class DnsServer:
    directory: Path
    ttl: int = TTL_SECONDS
    port: int = field(default_factory=_free_port)
    a: dict[str, list[str]] = field(default_factory=dict)
    srv: list[SrvRecord] = field(default_factory=list)
    unglued: dict[str, str] = field(default_factory=dict)
    _process: subprocess.Popen[bytes] | None = None

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def _hosts(self) -> Path:
        return self.directory / "hosts"

    @property
    def _conf(self) -> Path:
        return self.directory / "dnsmasq.conf"

    @property
    def log(self) -> str:
        path = self.directory / "dnsmasq.log"
        return path.read_text() if path.exists() else ""

    def start(self) -> None:
        binary = dnsmasq_or_skip()
        self.directory.mkdir(parents=True, exist_ok=True)
        self._write()
        log = (self.directory / "dnsmasq.log").open("ab")
        self._process = subprocess.Popen(
            [
                binary,
                "--no-daemon",
                "--no-resolv",  # answers only what it publishes: nothing leaves the machine
                "--no-hosts",
                "--no-poll",
                f"--conf-file={self._conf}",
                f"--addn-hosts={self._hosts}",
                f"--local-ttl={self.ttl}",
                "--listen-address=127.0.0.1",
                "--bind-interfaces",
                f"--port={self.port}",
                f"--pid-file={self.directory / 'dnsmasq.pid'}",
                f"--user={getpass.getuser()}",  # keeps reading our files after SIGHUP
                "--log-facility=-",
                "--log-queries",
            ],
            stdout=log,
            stderr=log,
        )
        log.close()
        self._wait_answering()

    def publish(
        self,
        *,
        a: Mapping[str, Sequence[str]] | None = None,
        srv: Sequence[SrvRecord] | None = None,
        unglued: Mapping[str, str] | None = None,
    ) -> None:
        """Serve these records from now on (those not given stay as they are)."""
        restart = (srv is not None and list(srv) != self.srv) or (
            unglued is not None and dict(unglued) != self.unglued
        )
        if a is not None:
            self.a = {name: list(addresses) for name, addresses in a.items()}
        if srv is not None:
            self.srv = list(srv)
        if unglued is not None:
            self.unglued = dict(unglued)
        if self._process is None:
            return
        if restart:
            self.stop()
            self.start()
            return
        self._write()
        self._process.send_signal(signal.SIGHUP)
        self._wait_answering()

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None

    def query(self, name: str, rdtype: str, *, timeout: float = 1.0) -> dns.message.Message:
        return dns.query.udp(
            dns.message.make_query(name, rdtype), "127.0.0.1", port=self.port, timeout=timeout
        )

    def _write(self) -> None:
        lines = [f"{address} {name}" for name, addresses in self.a.items() for address in addresses]
        self._hosts.write_text("\n".join(lines) + "\n")
        conf = [f"srv-host={r.name},{r.target},{r.port},{r.priority},{r.weight}" for r in self.srv]
        conf += [f"address=/{name}/{address}" for name, address in self.unglued.items()]
        self._conf.write_text("\n".join(conf) + "\n")

    def _answers_published(self) -> bool:
        for name, addresses in self.a.items():
            answer = self.query(name, "A", timeout=_POLL_SECONDS).answer
            found = {r.address for rrset in answer for r in rrset}
            if found != set(addresses):
                return False
        by_name: dict[str, set[tuple[str, int]]] = {}
        for record in self.srv:
            by_name.setdefault(record.name, set()).add((record.target, record.port))
        for name, expected in by_name.items():
            answer = self.query(name, "SRV", timeout=_POLL_SECONDS).answer
            found_srv = {
                (r.target.to_text(omit_final_dot=True), r.port)
                for rrset in answer
                if rrset.rdtype == dns.rdatatype.SRV
                for r in rrset
            }
            if found_srv != expected:
                return False
        return True

    def _wait_answering(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"dnsmasq exited ({self._process.returncode}):\n{self.log}")
            try:
                if self._answers_published():
                    return
            except (dns.exception.DNSException, OSError):
                pass  # not listening yet
            if time.monotonic() > deadline:
                raise RuntimeError(f"dnsmasq did not serve the records in time:\n{self.log}")
            time.sleep(_POLL_SECONDS)
