"""``strangler up`` on a small stack of real processes: setup, readiness, one instance, Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.monolith.processes import free_port, wait_until

STRANGLER = [sys.executable, "-m", "strangler.cli"]
DEADLINE_SECONDS = 30


class Run:
    """A ``strangler up`` process whose output lines are collected as they come."""

    def __init__(self, stack: Path, *args: str) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [*STRANGLER, "up", "--stack", str(stack), *args],
            cwd=stack.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # a process group of its own, as a terminal gives it
        )
        assert self.proc.stdout is not None
        self._reader = threading.Thread(target=self._read, args=(self.proc.stdout,))
        self._reader.start()

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self.lines.append(line.rstrip("\n"))

    def saw(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def ctrl_c(self) -> int:
        os.killpg(self.proc.pid, signal.SIGINT)
        return self.wait()

    def wait(self) -> int:
        code = self.proc.wait(timeout=DEADLINE_SECONDS)
        self._reader.join(timeout=DEADLINE_SECONDS)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        return code

    def output(self) -> str:
        return "\n".join(self.lines)


@contextlib.contextmanager
def up(stack: Path, *args: str) -> Iterator[Run]:
    run = Run(stack, *args)
    try:
        yield run
    finally:
        if run.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(run.proc.pid, signal.SIGKILL)
            run.wait()


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture
def ports() -> tuple[int, int]:
    return free_port(), free_port()


@pytest.fixture
def stack(tmp_path: Path, ports: tuple[int, int]) -> Path:
    a, b = ports
    (tmp_path / "www").mkdir()
    path = tmp_path / "stack.yaml"
    path.write_text(
        f"""
env:
  A_PORT: "{a}"
  B_PORT: "{b}"
setup:
  - name: write the page
    run: python -c "open('www/setup-done', 'w').write('done')"
processes:
  web-a:
    run: python -m http.server ${{A_PORT}} --bind 127.0.0.1 --directory www
    port: ${{A_PORT}}
    ready: http://127.0.0.1:${{A_PORT}}/setup-done
  web-b:
    run: python -m http.server ${{B_PORT}} --bind 127.0.0.1 --directory www
    port: ${{B_PORT}}
    ready: http://127.0.0.1:${{B_PORT}}/setup-done
urls:
  Page: http://127.0.0.1:${{A_PORT}}/setup-done
""",
        encoding="utf-8",
    )
    return path


def test_up_runs_setup_then_every_process_and_prints_the_urls_once_ready(stack, ports):
    a, b = ports
    with up(stack) as run:
        wait_until(lambda: run.saw("Press Ctrl-C"), deadline=DEADLINE_SECONDS, what="ready")
        assert answers(f"http://127.0.0.1:{a}/setup-done")
        assert answers(f"http://127.0.0.1:{b}/setup-done")
        assert run.saw(f"Page  http://127.0.0.1:{a}/setup-done")
        assert run.saw("web-a")
        assert run.saw("web-b")


def test_ctrl_c_stops_every_process_and_exits_zero(stack, ports):
    a, b = ports
    with up(stack) as run:
        wait_until(lambda: run.saw("Press Ctrl-C"), deadline=DEADLINE_SECONDS, what="ready")
        assert run.ctrl_c() == 0
    assert not answers(f"http://127.0.0.1:{a}/setup-done")
    assert not answers(f"http://127.0.0.1:{b}/setup-done")


def test_a_second_up_says_one_is_running_instead_of_failing_on_ports(stack):
    with up(stack) as first:
        wait_until(lambda: first.saw("Press Ctrl-C"), deadline=DEADLINE_SECONDS, what="ready")
        second = subprocess.run(
            [*STRANGLER, "up", "--stack", str(stack)],
            cwd=stack.parent,
            capture_output=True,
            text=True,
            timeout=DEADLINE_SECONDS,
        )
        assert second.returncode == 1
        assert "already running" in second.stderr
        assert f"pid {first.proc.pid}" in second.stderr
        assert first.proc.poll() is None  # the running stack is left alone


def test_a_port_taken_by_another_program_is_refused_before_anything_starts(stack, ports):
    a, _ = ports
    blocker = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(a), "--bind", "127.0.0.1"],
        cwd=stack.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: answers(f"http://127.0.0.1:{a}/"), deadline=DEADLINE_SECONDS, what="a")
        result = subprocess.run(
            [*STRANGLER, "up", "--stack", str(stack)],
            cwd=stack.parent,
            capture_output=True,
            text=True,
            timeout=DEADLINE_SECONDS,
        )
    finally:
        blocker.terminate()
        blocker.wait(timeout=DEADLINE_SECONDS)
    assert result.returncode == 1
    assert f"port {a} (web-a) is already in use" in result.stderr
    assert not (stack.parent / "www" / "setup-done").exists()  # not even setup ran


def test_a_failing_setup_step_stops_up_naming_the_step(stack):
    text = stack.read_text(encoding="utf-8").replace(
        "open('www/setup-done', 'w').write('done')", "raise SystemExit(3)"
    )
    stack.write_text(text, encoding="utf-8")
    with up(stack) as run:
        assert run.wait() == 2
    assert "setup step 'write the page' failed (exit status 3)" in run.output()
    assert not run.saw("web-a")


def _replace_web_a(stack: Path, run: str, extra: str = "") -> None:
    text = stack.read_text(encoding="utf-8").replace(
        "run: python -m http.server ${A_PORT} --bind 127.0.0.1 --directory www",
        f"run: {run}{extra}",
    )
    stack.write_text(text, encoding="utf-8")


def _started_pid(run: Run, name: str, after: int = 0) -> int | None:
    pids = [
        int(line.split("pid=")[1].rstrip(")"))
        for line in run.lines
        if f"{name} started (pid=" in line
    ]
    return pids[after] if len(pids) > after else None


def test_a_killed_process_is_restarted_and_the_stack_keeps_serving(stack, ports):
    a, b = ports
    with up(stack) as run:
        wait_until(lambda: run.saw("Press Ctrl-C"), deadline=DEADLINE_SECONDS, what="ready")
        first = _started_pid(run, "web-a")
        assert first is not None

        os.killpg(first, signal.SIGKILL)  # as the OOM killer or a crash would

        wait_until(
            lambda: _started_pid(run, "web-a", after=1) is not None,
            deadline=DEADLINE_SECONDS,
            what="web-a started again",
        )
        wait_until(
            lambda: answers(f"http://127.0.0.1:{a}/setup-done"),
            deadline=DEADLINE_SECONDS,
            what="web-a answering again",
        )
        assert run.saw("web-a failed (rc=-9); restarting it in 1 s (restart 1 of 5")
        assert answers(f"http://127.0.0.1:{b}/setup-done")
        assert run.proc.poll() is None
        assert run.ctrl_c() == 0


def test_a_process_that_keeps_failing_stops_the_stack_once_its_budget_is_spent(stack, ports):
    _, b = ports
    _replace_web_a(stack, "python -c 'raise SystemExit(4)'")
    with up(stack) as run:
        assert run.wait() == 2
    assert run.saw("restart 5 of 5 allowed within 300 s")
    assert run.saw("web-a failed 6 times within 300 s; not restarting it again")
    assert run.saw("web-a kept failing, so the stack was stopped")
    wait_until(
        lambda: not answers(f"http://127.0.0.1:{b}/setup-done"),
        deadline=DEADLINE_SECONDS,
        what="web-b to stop",
    )


def test_a_process_marked_restart_never_stops_the_stack_when_it_fails(stack, ports):
    _, b = ports
    _replace_web_a(stack, "python -c 'raise SystemExit(4)'", "\n    restart: never")
    with up(stack) as run:
        assert run.wait() == 2
    assert run.saw("a process stopped on its own")
    assert not run.saw("restarting it")
    wait_until(
        lambda: not answers(f"http://127.0.0.1:{b}/setup-done"),
        deadline=DEADLINE_SECONDS,
        what="web-b to stop",
    )


def test_a_process_that_exits_cleanly_on_its_own_stops_the_stack(stack, ports):
    _replace_web_a(stack, "python -c 'raise SystemExit(0)'")
    with up(stack) as run:
        assert run.wait() == 2
    assert run.saw("a process stopped on its own")
    assert not run.saw("restarting it")


def test_the_stack_stops_when_whoever_read_its_output_goes_away(stack, ports):
    a, b = ports
    proc = subprocess.Popen(
        [*STRANGLER, "up", "--stack", str(stack)],
        cwd=stack.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # until ready
            if "Press Ctrl-C" in line:
                break
        proc.stdout.close()  # as a test runner killed mid-run, or a closed terminal pipe

        answers(f"http://127.0.0.1:{a}/setup-done")  # web-a logs the request: a line to print

        assert proc.wait(timeout=DEADLINE_SECONDS) == 2
        wait_until(
            lambda: not answers(f"http://127.0.0.1:{b}/setup-done"),
            deadline=DEADLINE_SECONDS,
            what="web-b to stop",
        )
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("processes: {}\n", "processes: Dictionary should have at least 1 item"),
        ("processes:\n  Web: {run: x}\n", "process name 'Web'"),
        (
            "processes:\n  web: {run: x, port: '${NOPE}'}\n",
            "processes.web.port: ${NOPE} is not set",
        ),
        ("processes:\n  web: {run: x, colour: red}\n", "processes.web.colour"),
        ("processes:\n  web: {run: x, restart: always}\n", "processes.web.restart"),
        ("- a list\n", "expected a mapping"),
    ],
)
def test_a_bad_stack_file_is_refused_naming_the_entry_and_field(tmp_path, text, message):
    path = tmp_path / "stack.yaml"
    path.write_text(text, encoding="utf-8")
    result = subprocess.run(
        [*STRANGLER, "up", "--stack", str(path)],
        capture_output=True,
        text=True,
        timeout=DEADLINE_SECONDS,
        env={k: v for k, v in os.environ.items() if k != "NOPE"},
    )
    assert result.returncode == 2
    assert str(path) in result.stderr
    assert message in result.stderr
