"""Run a stack's processes side by side, restarting one that fails, within a budget.

honcho's ``Manager`` stops every process as soon as one stops. For a stack that is the
wrong answer to a worker that crashed: the sync's Celery workers hold no state a restart
loses (their durable state is the changelog and the cursors, docs/sync.md), and the
monolith keeps answering meanwhile. So a process that exits with a failure is started
again after a short pause, each restart said in one log line; one that fails more than
``RESTART_BUDGET`` times within ``RESTART_WINDOW_SECONDS`` is failing for a reason a
restart will not fix, and then the stack stops as honcho would, saying so. A process that
exits with status 0, or has ``restart: never``, stops the stack at once.
"""

from __future__ import annotations

import datetime
import multiprocessing
import queue
import signal
import time
from collections import deque
from collections.abc import Mapping
from types import FrameType
from typing import Any

from honcho.manager import KILL_WAIT, SIGNALS, Manager
from honcho.printer import Message

__all__ = ["RESTART_BUDGET", "RESTART_DELAY_SECONDS", "RESTART_WINDOW_SECONDS", "Supervisor"]

# systemd's default start limit is 5 starts in 10 s; a stack's processes take seconds to
# start, so the window is longer: 5 failures in 5 minutes is a crash loop, not bad luck.
RESTART_BUDGET = 5
RESTART_WINDOW_SECONDS = 300.0
# Long enough that a process failing at once does not spin the machine, short enough that
# a restarted worker picks the sync up again well within the plans' 5 s lag gate.
RESTART_DELAY_SECONDS = 1.0
_EVENT_POLL_SECONDS = 0.1
# The exit status of a process whose output pipe closed (128 + SIGPIPE), as a shell reports it.
_OUTPUT_GONE = 141


class Supervisor(Manager):  # type: ignore[misc]
    """honcho's manager, with restarts for processes that fail."""

    def __init__(self, *, restartable: Mapping[str, bool], printer: Any = None) -> None:
        super().__init__(printer=printer)
        self._restartable = dict(restartable)
        self._failures: dict[str, deque[float]] = {}
        self._due: dict[str, float] = {}
        self.gave_up: str | None = None
        """The process whose restart budget ran out, if that is why the stack stopped."""
        self.output_gone = False
        """Whoever read the stack's output went away (its pipe closed): the stack stopped."""

    def loop(self) -> None:
        def _terminate(signum: int, frame: FrameType | None) -> None:
            self._system_print(f"{SIGNALS[signum]['name']} received\n")
            self.returncode = SIGNALS[signum]["rc"]
            self.terminate()

        signal.signal(signal.SIGTERM, _terminate)
        signal.signal(signal.SIGINT, _terminate)
        self._start()
        stopping_since: float | None = None
        while True:
            try:
                msg = self.events.get(timeout=_EVENT_POLL_SECONDS)
            except queue.Empty:
                if self._all_stopped() and not self._due:
                    break
            else:
                self._handle(msg)
            if self._terminating:  # whatever stopped the stack: no restart is due any more
                self._due.clear()
            self._restart_due()
            if stopping_since is None and self._terminating:
                stopping_since = time.monotonic()
            if stopping_since is not None and time.monotonic() - stopping_since > KILL_WAIT:
                self.kill()

    def _write(self, msg: Any) -> None:
        """Print a line; when whoever reads our output is gone (a closed pipe), stop the
        stack rather than leave its processes running with nobody to stop them."""
        if self.output_gone:
            return
        try:
            self._printer.write(msg)
        except OSError:  # BrokenPipeError and its kin: the reader went away
            self.output_gone = True
            if self.returncode is None:
                self.returncode = _OUTPUT_GONE
            self.terminate()

    def _system_print(self, data: str) -> None:
        self._write(
            Message(
                type="line", data=data, time=datetime.datetime.now(), name="system", colour=None
            )
        )

    def _handle(self, msg: Any) -> None:
        if msg.type == "line":
            self._write(msg)
        elif msg.type == "start":
            self._processes[msg.name]["pid"] = msg.data["pid"]
            self._system_print(f"{msg.name} started (pid={msg.data['pid']})\n")
        elif msg.type == "stop":
            code = msg.data["returncode"]
            self._processes[msg.name]["returncode"] = code
            self._system_print(f"{msg.name} stopped (rc={code})\n")
            if self._terminating:
                return
            if self._may_restart(msg.name, code):
                self._due[msg.name] = time.monotonic() + RESTART_DELAY_SECONDS
                return
            if self.returncode is None:
                self.returncode = code
            self.terminate()

    def _may_restart(self, name: str, code: int) -> bool:
        if code == 0 or not self._restartable.get(name, False):
            return False
        now = time.monotonic()
        failures = self._failures.setdefault(name, deque())
        while failures and now - failures[0] > RESTART_WINDOW_SECONDS:
            failures.popleft()
        if len(failures) >= RESTART_BUDGET:
            self.gave_up = name
            self._system_print(
                f"{name} failed {len(failures) + 1} times within "
                f"{RESTART_WINDOW_SECONDS:.0f} s; not restarting it again, stopping the stack\n"
            )
            return False
        failures.append(now)
        self._system_print(
            f"{name} failed (rc={code}); restarting it in {RESTART_DELAY_SECONDS:.0f} s "
            f"(restart {len(failures)} of {RESTART_BUDGET} allowed within "
            f"{RESTART_WINDOW_SECONDS:.0f} s)\n"
        )
        return True

    def _restart_due(self) -> None:
        now = time.monotonic()
        for name, due in list(self._due.items()):
            if due > now:
                continue
            del self._due[name]
            entry = self._processes[name]
            entry.pop("returncode", None)
            entry.pop("pid", None)
            entry["process"] = multiprocessing.Process(
                name=name, target=entry["obj"].run, args=(self.events, True)
            )
            entry["process"].start()
