"""The distribution's wheel before and after it became the toolkit only: size and install time.

Builds a wheel of ``--reference`` (default: the last commit before the packaging change, when
the wheel held the demo storefront and a top-level ``proxy``) and of the working tree, then
installs each into fresh virtual environments with its dependencies from the package index:
the reference whole, ours as a project installs it (the base, with no extra) and with
``[all]`` (what the reference's dependencies amounted to). Each install runs once untimed to
fill pip's cache, then ``--rounds`` times timed, so the figures are pip's work and not the
network's. Prints the medians and the ratios to the reference.

    .venv/bin/python bench/bench_wheel.py               # about 3 minutes
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The commit before "The proxy moves under the toolkit as strangler.proxy".
REFERENCE = "9ca640a"


def _run(*args: str | Path, cwd: Path | None = None) -> None:
    subprocess.run([str(a) for a in args], cwd=cwd, check=True, capture_output=True)


def _wheel(source: Path, out: Path) -> Path:
    _run(sys.executable, "-m", "build", "--wheel", "--outdir", out, source)
    return max(out.glob("*.whl"), key=lambda p: p.stat().st_mtime)


def _source_of(ref: str | None, into: Path) -> Path:
    """The tracked files of ``ref``, or of the working tree when ``ref`` is None."""
    into.mkdir()
    archive = into.with_suffix(".tar")
    if ref is None:
        files = subprocess.run(
            ["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True, text=True, check=True
        ).stdout.split("\0")
        with tarfile.open(archive, "w") as tar:
            for name in filter(None, files):
                if (REPO / name).is_file():
                    tar.add(REPO / name, arcname=name)
    else:
        _run("git", "-C", REPO, "archive", "--format=tar", "-o", archive, ref)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into


def _install_seconds(requirement: str, work: Path, rounds: int) -> tuple[float, int]:
    """Median seconds of a fresh venv's ``pip install requirement``, and the packages it got."""
    times: list[float] = []
    count = 0
    for attempt in range(rounds + 1):
        env = work / f"venv-{attempt}"
        _run(sys.executable, "-m", "venv", env)
        start = time.perf_counter()
        _run(env / "bin" / "python", "-m", "pip", "install", "--quiet", requirement)
        if attempt:  # the first fills pip's cache
            times.append(time.perf_counter() - start)
        listed = subprocess.run(
            [str(env / "bin" / "python"), "-m", "pip", "list", "--format=freeze"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        count = len(listed.splitlines())
        shutil.rmtree(env)
    return statistics.median(times), count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", default=REFERENCE, help=f"the commit before ({REFERENCE})")
    parser.add_argument("--rounds", type=int, default=2, help="timed installs each (2)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        old = _wheel(_source_of(args.reference, work / "old"), work / "old-wheel")
        new = _wheel(_source_of(None, work / "new"), work / "new-wheel")
        rows = [
            (f"reference ({args.reference})", old, str(old)),
            ("toolkit, base", new, str(new)),
            ("toolkit, [all]", new, f"{new}[all]"),
        ]
        print(f"{'wheel':<24} {'size KiB':>9} {'files':>6} {'packages':>9} {'install s':>10}")
        base_size = old.stat().st_size
        base_time = 0.0
        for label, wheel, requirement in rows:
            with zipfile.ZipFile(wheel) as z:
                files = len(z.namelist())
            seconds, packages = _install_seconds(requirement, work, args.rounds)
            base_time = base_time or seconds
            print(
                f"{label:<24} {wheel.stat().st_size / 1024:>9.0f} {files:>6} {packages:>9} "
                f"{seconds:>10.1f}   size x{wheel.stat().st_size / base_size:.2f}, "
                f"install x{seconds / base_time:.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
