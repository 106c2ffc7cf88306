"""Schemathesis against a running service's OpenAPI schema, bounded in time.

Both services' suites run it (tests/monolith/test_schemathesis.py,
tests/extracted/catalog/test_schemathesis.py): the CLI, as a developer would, against
gunicorn with two workers, so that two requests at once can meet. Every check runs
(``tests/schemathesis.toml`` says what the services may answer and how the run is bounded).
The seed is fixed so that a run is repeatable; change ``SEED`` to explore.

Its time is the coverage phase's (``--max-examples`` does not bound it: it sends each
boundary and wrong-type value the schema implies, ~1,900 requests to the monolith). Measured
on this 2-core machine: 15 s for the monolith with the machine otherwise idle, 55-66 s with a
load average of 5-6 from other suites; 9-15 s of it is schemathesis's own CPU. Two workers:
four hit a race in schemathesis 4.32's coverage cache (``KeyError`` in a worker thread).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

__all__ = ["RUN_TIMEOUT_SECONDS", "schemathesis_run"]

CONFIG = Path(__file__).with_name("schemathesis.toml")
SEED = 1
# Per operation and phase. 3 keeps the monolith's 40 operations near 30 s on a quiet 2-core
# machine; the coverage phase's boundary values (max + 1, wrong types) come on top of it.
MAX_EXAMPLES = 3
# The run's ceiling on a loaded machine; a hung server fails the test well inside it.
RUN_TIMEOUT_SECONDS = 150
REQUEST_TIMEOUT_SECONDS = 10


def schemathesis_run(*, schema_url: str, headers: dict[str, str], cwd: Path) -> str:
    """Run schemathesis once; its report, or a failure showing it."""
    st = Path(sys.executable).with_name("st")
    args = [
        str(st), "--config-file", str(CONFIG), "run", schema_url,
        "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED), "--workers", "2",
        "--request-timeout", str(REQUEST_TIMEOUT_SECONDS),
        # Our credentials, not generated ones: the staff token or identity reaches every write.
        "--generation-with-security-parameters", "false",
        # DRF refuses NUL in text (PostgreSQL cannot store it); the schema cannot say so.
        "--generation-allow-x00", "false",
        "--generation-database", "none", "--no-color",
    ]  # fmt: skip
    for name, value in headers.items():
        args += ["--header", f"{name}: {value}"]
    done = subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"schemathesis found failures:\n{done.stdout[-12000:]}{done.stderr}")
    return done.stdout
