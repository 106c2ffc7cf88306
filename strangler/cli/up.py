"""``strangler up``: prepare and run the whole stack the stack file describes, until Ctrl-C.

Setup steps run first, in order (migrations, demo data); then every process starts side by
side under honcho, whose interleaved, name-prefixed output is what a developer reads. Once
every process's ``ready`` URL answers, the stack's URLs are printed. Ctrl-C (or SIGTERM)
stops every process, SIGKILL after honcho's grace period, and ``up`` exits 0.

Only one ``up`` runs per checkout: a lock file under the var directory is held for the
life of the command, and a second ``up`` says which process holds it instead of failing on
a taken port halfway through start-up.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import fcntl
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import requests
from honcho.manager import Manager
from honcho.printer import Message

from strangler.cli.errors import CommandError, ExitCode
from strangler.environment import path_with_own_python
from strangler.environment import var_dir as var_dir_of
from strangler.stack import Stack, StackError, load_stack
from strangler.stack_supervisor import Supervisor

__all__ = ["register", "up"]

# Migrating two databases and seeding demo data takes ~20 s here on SQLite; first start of
# gunicorn, the proxy and Celery another few seconds. Three minutes means something hangs.
READY_DEADLINE_SECONDS = 180.0
READY_POLL_SECONDS = 0.25
# A local /readyz answers in milliseconds; one second without an answer is "not yet".
READY_REQUEST_TIMEOUT_SECONDS = 1.0
# Connecting to a port on loopback is refused or accepted at once.
PORT_PROBE_TIMEOUT_SECONDS = 0.5
_LOCK_NAME = "strangler-up.lock"
_NAME = "strangler"


def register(groups: Any) -> None:
    parser = groups.add_parser(
        "up",
        help="set up and run the whole stack (monolith, services, proxy, workers) until Ctrl-C",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--stack",
        type=Path,
        default=Path("stack.yaml"),
        metavar="FILE",
        help="the stack file (default: stack.yaml in the current directory)",
    )
    parser.add_argument(
        "--skip-setup", action="store_true", help="start the processes without the setup steps"
    )
    parser.set_defaults(command=up)


def up(args: argparse.Namespace) -> int:
    try:
        stack = load_stack(args.stack)
    except StackError as exc:
        raise CommandError(str(exc), exit_code=ExitCode.CANNOT_RUN) from exc
    env = _environment(stack)
    var_dir = var_dir_of(env, default=stack.path.parent / "var")
    var_dir.mkdir(parents=True, exist_ok=True)
    with _single_instance(var_dir / _LOCK_NAME):
        _refuse_taken_ports(stack)
        if not args.skip_setup:
            _run_setup(stack, env)
        return _run_processes(stack, env)


def _environment(stack: Stack) -> dict[str, str]:
    env = dict(stack.env)
    env["PATH"] = path_with_own_python(env.get("PATH", ""))
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


@contextlib.contextmanager
def _single_instance(lock_path: Path) -> Iterator[None]:
    handle = lock_path.open("a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = _read_holder(handle)
            raise CommandError(
                f"the stack is already running from this checkout (strangler up, pid "
                f"{holder.get('pid', '?')}, since {holder.get('since', '?')}); stop it with "
                f"Ctrl-C in its terminal or `kill {holder.get('pid', '<pid>')}`, then run up "
                "again.",
                exit_code=ExitCode.REFUSED,
            ) from None
        handle.seek(0)
        handle.truncate()
        since = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
        handle.write(json.dumps({"pid": os.getpid(), "since": since}))
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the lock


def _read_holder(handle: IO[str]) -> dict[str, Any]:
    try:
        holder = json.loads(handle.read() or "{}")
    except ValueError:
        return {}
    return holder if isinstance(holder, dict) else {}


def _refuse_taken_ports(stack: Stack) -> None:
    for process in stack.processes:
        if process.port is None:
            continue
        with (
            contextlib.suppress(OSError),
            socket.create_connection(
                ("127.0.0.1", process.port), timeout=PORT_PROBE_TIMEOUT_SECONDS
            ),
        ):
            raise CommandError(
                f"port {process.port} ({process.name}) is already in use by another "
                "program; stop it, or give the process another port through its "
                f"variable in {stack.path}.",
                exit_code=ExitCode.REFUSED,
            )


def _run_setup(stack: Stack, env: Mapping[str, str]) -> None:
    for step in stack.setup:
        print(f"{_NAME} | setup: {step.name}", flush=True)
        result = subprocess.run(  # noqa: S602 - the stack file's own command line
            step.run, shell=True, env=dict(env), cwd=stack.path.parent, check=False
        )
        if result.returncode != 0:
            raise CommandError(
                f"setup step {step.name!r} failed (exit status {result.returncode}): {step.run}",
                exit_code=ExitCode.CANNOT_RUN,
            )


def _run_processes(stack: Stack, env: Mapping[str, str]) -> int:
    manager = Supervisor(restartable={p.name: p.restart for p in stack.processes})
    for process in stack.processes:
        manager.add_process(
            process.name, process.run, env={**env, **process.env}, cwd=str(stack.path.parent)
        )
    stop = threading.Event()
    watcher = threading.Thread(
        target=_announce_when_ready, args=(stack, manager, stop), daemon=True
    )
    watcher.start()
    try:
        manager.loop()
    finally:
        stop.set()
    # 130 and 143 are honcho's answers to SIGINT and SIGTERM: the user stopped the stack.
    if manager.returncode in (130, 143):
        return int(ExitCode.OK)
    if manager.output_gone:  # nobody reads us any more: nothing to say, and nowhere
        return int(ExitCode.CANNOT_RUN)
    why = f"{manager.gave_up} kept failing" if manager.gave_up else "a process stopped on its own"
    print(
        f"{_NAME} | {why}, so the stack was stopped (see above)",
        file=sys.stderr,
        flush=True,
    )
    return int(ExitCode.CANNOT_RUN)


def _announce_when_ready(stack: Stack, manager: Manager, stop: threading.Event) -> None:
    pending = {p.name: p.ready for p in stack.processes if p.ready}
    deadline = time.monotonic() + READY_DEADLINE_SECONDS
    with requests.Session() as session:
        while pending and not stop.is_set() and time.monotonic() < deadline:
            for name, url in list(pending.items()):
                if _answers(session, url):
                    del pending[name]
            if pending:
                stop.wait(READY_POLL_SECONDS)
    if stop.is_set():
        return
    if pending:
        lines = [f"not ready after {READY_DEADLINE_SECONDS:.0f} s: {', '.join(sorted(pending))}"]
    else:
        width = max((len(label) for label in stack.urls), default=0)
        lines = ["ready:"] + [f"  {label.ljust(width)}  {url}" for label, url in stack.urls.items()]
        lines.append("Press Ctrl-C to stop everything.")
    now = datetime.datetime.now()
    for line in lines:
        manager.events.put(Message(type="line", data=line, time=now, name=_NAME, colour=None))


def _answers(session: requests.Session, url: str) -> bool:
    try:
        response = session.get(url, timeout=READY_REQUEST_TIMEOUT_SECONDS)
    except requests.RequestException:
        return False
    return response.status_code == 200
