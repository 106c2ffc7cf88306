"""The proxy's route-table checker, run as ``python -m strangler.proxy.check`` in a child process.

The toolkit may not import the proxy (a checked package boundary), so whatever needs the
proxy's schema (``routes check``, reading or validating the file) runs the checker and reads
its exit status or its ``--json`` report.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from strangler.cli.errors import CommandError, ExitCode

__all__ = ["check_command", "check_report", "run_check"]

# proxy.check parses one file in well under a second; a minute means it hung.
CHECK_TIMEOUT_SECONDS = 60.0


def check_command(*args: str) -> list[str]:
    """The checker's command line with ``args``; refused when the proxy is not installed."""
    # find_spec on a top-level name only looks for it; nothing of the proxy is imported here.
    if importlib.util.find_spec("aiohttp") is None:
        raise CommandError(
            "the proxy's dependencies are not installed in this environment; it checks route "
            "tables: pip install 'strangler-toolkit[proxy]'",
            exit_code=ExitCode.CANNOT_RUN,
        )
    return [sys.executable, "-m", "strangler.proxy.check", *args]


def run_check(command: list[str], *, capture: bool) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(  # noqa: S603 - our own interpreter and module
            command, capture_output=capture, text=True, check=False, timeout=CHECK_TIMEOUT_SECONDS
        )
    except subprocess.TimeoutExpired as exc:
        raise CommandError(
            f"python -m strangler.proxy.check did not finish in {CHECK_TIMEOUT_SECONDS:g} s",
            exit_code=ExitCode.CANNOT_RUN,
        ) from exc


def check_report(file: Path, *, source: Path | str) -> dict[str, Any]:
    """``strangler.proxy.check --json`` on ``file``, its messages naming ``source``."""
    completed = run_check(check_command("--json", "--source", str(source), str(file)), capture=True)
    try:
        report = json.loads(completed.stdout) if completed.returncode in (0, 1) else None
    except ValueError:
        report = None
    if not isinstance(report, dict):
        raise CommandError(
            f"python -m strangler.proxy.check failed (exit {completed.returncode}): "
            f"{completed.stderr.strip()}",
            exit_code=ExitCode.CANNOT_RUN,
        )
    return report
