"""Run a tutorial's commands, as written, and hold its shown output to what they print.

A tutorial shows commands in ``console`` blocks: a line starting with ``$ `` is a command,
the lines after it (to the next command or the block's end) are its output. In the shown
output, a line ``...`` stands for any number of lines, and ``...`` inside a line for any
text. A comment ``<!-- run: background until="TEXT" -->`` just before a block runs its one
command in the background until its output shows TEXT; background commands are stopped
with Ctrl-C (SIGINT to their process group) when the tutorial ends, and must exit 0.

Commands run with ``bash``, in the repository (``export NAME=value``, ``cd DIR`` and
``. DIR/bin/activate`` last for the commands after them, as in the reader's shell), with
``.venv/bin`` first on ``PATH`` (as
after ``. .venv/bin/activate``), in a private ``STRANGLER_VAR_DIR`` (the paths ``var/...`` a
tutorial names are that directory's), and with the default
ports (8000, 8001, 8002, 8100, 8200) moved to free ones. The stack follows them from the
environment alone (``PROXY_PORT``, ``PROXY_ADMIN_PORT``, ``DASHBOARD_PORT``, ``MONOLITH_PORT``,
``CATALOG_PORT``:
stack.yaml, routes.yaml and the plans read them); only the URLs the tutorial's own commands
spell out are rewritten on the way in, and port numbers back on the way out, so the tutorial
reads as a reader will see it.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import shlex
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# A service a tutorial extracts listens on ${<SERVICE>_PORT:-8200}, as the catalog does: the
# names that share a default share the session's port.
DEFAULT_PORTS = {"PROXY_PORT": 8000, "PROXY_ADMIN_PORT": 8001, "DASHBOARD_PORT": 8002,
                 "MONOLITH_PORT": 8100, "CATALOG_PORT": 8200, "SHELF_PORT": 8200}  # fmt: skip
COMMAND_TIMEOUT_SECONDS = 300
BACKGROUND_DEADLINE_SECONDS = 240
_DIRECTIVE = re.compile(r"<!--\s*run:\s*(?P<what>[a-z-]+)(?:\s+until=\"(?P<until>[^\"]+)\")?\s*-->")


@dataclass
class Command:
    line: int
    text: str
    expected: list[str]
    background_until: str | None = None


@dataclass
class Tutorial:
    path: Path
    commands: list[Command] = field(default_factory=list)


def parse(path: Path) -> Tutorial:
    tutorial = Tutorial(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    directive: re.Match[str] | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        match = _DIRECTIVE.search(line)
        if match:
            directive = match
        elif line.strip() == "```console":
            i += 1
            block_start = i
            current: Command | None = None
            while i < len(lines) and lines[i].strip() != "```":
                text = lines[i]
                if text.startswith("$ "):
                    current = Command(line=i + 1, text=text[2:], expected=[])
                    tutorial.commands.append(current)
                elif current is None:
                    raise ValueError(f"{path}:{i + 1}: output before any command")
                else:
                    current.expected.append(text)
                i += 1
            if directive is not None:
                if directive["what"] != "background" or not directive["until"]:
                    raise ValueError(f"{path}:{block_start}: unknown directive {directive[0]}")
                if current is None:
                    raise ValueError(f"{path}:{block_start}: a directive before an empty block")
                current.background_until = directive["until"]
            directive = None
        elif line.strip():
            directive = None if not _DIRECTIVE.search(line) else directive
        i += 1
    return tutorial


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether ``actual`` lines fit ``expected`` with its ``...`` wildcards."""
    pattern = []
    for line in expected:
        if line.strip() == "...":
            pattern.append(r"(?:.*\n)*?")
        else:
            parts = [re.escape(part) for part in line.rstrip().split("...")]
            pattern.append(".*".join(parts) + r"[ \t]*\n")
    text = "".join(line.rstrip() + "\n" for line in actual)
    return re.fullmatch("".join(pattern), text) is not None


# Below the kernel's ephemeral range (32768-60999 on Linux): a port asked of the kernel by
# another suite's test (bind to port 0) can never be one of ours, so a reader's stack never
# answers on a port some other server took between our check and our bind.
_PORT_RANGE = (20000, 32000)


def free_port() -> int:
    rng = random.SystemRandom()
    while True:
        port = rng.randint(*_PORT_RANGE)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


class Session:
    """One reader working through one tutorial: an environment and background processes."""

    def __init__(self, var_dir: Path) -> None:
        by_default: dict[int, int] = {}
        self.ports = {
            name: by_default.setdefault(default, free_port())
            for name, default in DEFAULT_PORTS.items()
        }
        self.var_dir = var_dir
        self.cwd = REPO  # where the reader's shell is (``cd`` moves it)
        self.env = dict(os.environ)
        self.env.update({name: str(port) for name, port in self.ports.items()})
        self.env["STRANGLER_VAR_DIR"] = str(var_dir)
        self.env["PATH"] = f"{REPO / '.venv' / 'bin'}{os.pathsep}{self.env.get('PATH', '')}"
        # The CLI finds the proxy's admin API from PROXY_ADMIN_PORT, as the stack's own.
        self.env.pop("STRANGLER_ADMIN_URL", None)
        self.env.pop("DATABASE_URL", None)
        self.env.pop("CATALOG_DATABASE_URL", None)
        self.env.pop("CELERY_BROKER_URL", None)
        # The reader's shell is not in demo mode (the suites are): `make up` sets it for the
        # stack, and a tutorial that runs a project's commands itself says to export it.
        self.env.pop("STRANGLER_DEMO", None)
        # The reader's own copy of the table, as written (its ports follow the environment),
        # so that the tutorial's changes to it stay in this session.
        var_dir.mkdir(parents=True, exist_ok=True)
        routes = var_dir / "routes.yaml"
        routes.write_text((REPO / "routes.yaml").read_text(encoding="utf-8"))
        self.env["STRANGLER_ROUTES"] = str(routes)
        self.background: list[tuple[subprocess.Popen[str], list[str], threading.Thread]] = []

    def inwards(self, text: str) -> str:
        # A reader's stack keeps its files in the repository's var/; this session's are private.
        text = re.sub(r"(?<![\w./-])var/", f"{self.var_dir}/", text)
        for name, default in DEFAULT_PORTS.items():
            text = re.sub(rf"(?<=[:/]){default}\b", str(self.ports[name]), text)
            text = re.sub(rf"(?<=127\.0\.0\.1:){default}\b", str(self.ports[name]), text)
        return text

    def outwards(self, text: str) -> str:
        text = text.replace(f"{self.var_dir}/", "var/")
        for name, default in DEFAULT_PORTS.items():
            text = re.sub(rf"\b{self.ports[name]}\b", str(default), text)
        return text

    def run(self, command: Command) -> list[str]:
        if command.background_until:
            return self._start(command)
        if command.text.startswith("export "):
            return self._export(command)
        if command.text.startswith("cd "):
            return self._cd(command)
        if command.text.startswith(". ") and command.text.rstrip().endswith("/bin/activate"):
            return self._activate(command)
        result = subprocess.run(
            ["bash", "-c", self.inwards(command.text)],
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # interleaved as a terminal shows them
            text=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
        )
        output = self.outwards(result.stdout).splitlines()
        if result.returncode != 0 and not command.text.rstrip().endswith("|| true"):
            raise AssertionError(
                f"line {command.line}: `{command.text}` exited {result.returncode}:\n"
                + "\n".join(output)
                + "\n\nthe background commands' last lines:\n"
                + self.background_tail()
            )
        return output

    def _export(self, command: Command) -> list[str]:
        """``export NAME=value ...``: the reader's shell keeps the values, as bash computes
        them (``$(...)`` included), for the commands after it."""
        names = re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=", command.text[len("export ") :])
        script = (
            self.inwards(command.text)
            + "\nstatus=$?\n"
            + "".join(f'printf "%s\\0" "${{{name}}}"\n' for name in names)
            + "exit $status\n"
        )
        result = subprocess.run(
            ["bash", "-c", script],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
        )
        if result.returncode != 0:
            raise AssertionError(f"line {command.line}: `{command.text}`: {result.stderr}")
        values = result.stdout.split("\0")[: len(names)]
        self.env.update(zip(names, values, strict=True))
        return self.outwards(result.stderr).splitlines()

    def _cd(self, command: Command) -> list[str]:
        """``cd DIR``: the reader's shell stays there for the commands after it."""
        (target,) = shlex.split(self.inwards(command.text))[1:]
        path = (self.cwd / target).resolve()
        if not path.is_dir():
            raise AssertionError(f"line {command.line}: `{command.text}`: no directory {path}")
        self.cwd = path
        return []

    def _activate(self, command: Command) -> list[str]:
        """``. DIR/bin/activate``: what the activation script does to the reader's shell
        (its ``bin`` first on ``PATH``, ``VIRTUAL_ENV`` set), for the commands after it."""
        script = self.cwd / shlex.split(self.inwards(command.text))[1]
        if not script.is_file():
            raise AssertionError(f"line {command.line}: `{command.text}`: no {script}")
        bin_dir = script.parent.resolve()
        self.env["VIRTUAL_ENV"] = str(bin_dir.parent)
        self.env["PATH"] = f"{bin_dir}{os.pathsep}{self.env['PATH']}"
        return []

    def _start(self, command: Command) -> list[str]:
        proc = subprocess.Popen(
            ["bash", "-c", "exec " + self.inwards(command.text)],
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        lines: list[str] = []
        assert proc.stdout is not None
        reader = threading.Thread(
            target=lambda: lines.extend(self.outwards(l.rstrip("\n")) for l in proc.stdout),  # type: ignore[union-attr]  # noqa: E741
            daemon=True,
        )
        reader.start()
        self.background.append((proc, lines, reader))
        deadline = time.monotonic() + BACKGROUND_DEADLINE_SECONDS
        while not any(command.background_until in line for line in list(lines)):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"line {command.line}: `{command.text}` never printed "
                    f"{command.background_until!r}:\n" + "\n".join(lines[-60:])
                )
            time.sleep(0.1)
        return list(lines)

    def background_tail(self, lines: int = 40) -> str:
        """The end of what the background commands printed (for a failure's message)."""
        return "\n".join(line for _, out, _ in self.background for line in out[-lines:])

    def stop(self) -> None:
        """Ctrl-C every background command, newest first; each must stop cleanly."""
        failures = []
        for proc, lines, reader in reversed(self.background):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGINT)
            try:
                code = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                code = proc.wait()
            reader.join(timeout=10)
            if proc.stdout is not None:
                proc.stdout.close()
            # make dies of the SIGINT it was sent even when its recipe stopped cleanly.
            if code not in (0, -signal.SIGINT, 128 + signal.SIGINT):
                failures.append(
                    f"{proc.args} exited {code} on Ctrl-C:\n"
                    + "\n".join(lines[-30:])
                    + _first_to_stop(lines)
                )
        # The stack runner restarts a process that fails; in a test that is still a failure.
        failures.extend(
            f"{proc.args}: {line}"
            for proc, lines, _ in self.background
            for line in lines
            if _RESTARTED.search(line)
        )
        self.background.clear()
        for name, port in self.ports.items():
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    failures.append(f"port {port} ({name}) still answers after Ctrl-C")
        if failures:
            raise AssertionError("\n".join(failures))


_RESTARTED = re.compile(r"\| [\w-]+ failed \(rc=-?\d+\); restarting it")
_STOPPED = re.compile(r"\| (?P<name>[\w-]+) stopped \(rc=(?P<code>-?\d+)\)")


def _first_to_stop(lines: list[str]) -> str:
    """What the process that stopped on its own last printed (honcho prefixes each line with
    its process's name), so that a stack that fell over says why."""
    for line in lines:
        stopped = _STOPPED.search(line)
        if stopped and stopped["code"] not in ("0", f"-{signal.SIGTERM}"):
            name = stopped["name"]
            own = [l for l in lines if re.match(rf"^\S+ {re.escape(name)}\s+\|", l)]  # noqa: E741
            return f"\n\n{name} stopped first; its last lines:\n" + "\n".join(own[-40:])
    return ""


@contextlib.contextmanager
def session(var_dir: Path) -> Iterator[Session]:
    reader = Session(var_dir)
    try:
        yield reader
    finally:
        reader.stop()
