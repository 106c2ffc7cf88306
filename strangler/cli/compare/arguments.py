"""The parser of ``strangler compare`` and ``strangler compare report``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from strangler.cli.compare.replay import compare_replay
from strangler.cli.compare.report import compare_report
from strangler.compare.replay import (
    DEFAULT_BASE_TWICE,
    DEFAULT_CONCURRENCY,
    REQUEST_TIMEOUT_SECONDS,
)

__all__ = ["register"]


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not a share between 0 and 1")
    return value


def _header(text: str) -> tuple[str, str]:
    name, colon, value = text.partition(":")
    if not colon or not name.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not 'Name: value'")
    return name.strip(), value.strip()


def register(groups: Any) -> None:
    parser = groups.add_parser(
        "compare",
        help="replay requests against two base URLs and compare the answers",
        description="Replay a JSONL capture, a HAR file or METHOD PATH lines against a base "
        "and a candidate, and compare the answers. Exit 0: no real difference; 1: real "
        "differences; 2: could not run.",
    )
    parser.add_argument("--base", metavar="URL", help="the reference (e.g. the monolith)")
    parser.add_argument("--candidate", metavar="URL", help="the side under test")
    parser.add_argument("--requests", metavar="FILE", type=Path, help="requests to replay")
    parser.add_argument(
        "--concurrency", type=int, default=DEFAULT_CONCURRENCY, metavar="N",
        help=f"requests in flight at most (default {DEFAULT_CONCURRENCY})",
    )  # fmt: skip
    parser.add_argument("--rate", type=float, metavar="R", help="requests started per second")
    parser.add_argument(
        "--allow-writes",
        action="store_true",
        help="replay writes too (only GET, HEAD, OPTIONS otherwise): they change both sides' data",
    )
    parser.add_argument(
        "--rules",
        type=Path,
        metavar="FILE",
        help="comparison rules and routes (the route "
        "table's shape: compare: defaults, routes: [{name, path|prefix, compare}])",
    )
    parser.add_argument("--report-json", type=Path, metavar="F", help="write the JSON report")
    parser.add_argument("--report-junit", type=Path, metavar="F", help="write JUnit XML")
    parser.add_argument("--report-html", type=Path, metavar="F", help="write the HTML page")
    results = parser.add_mutually_exclusive_group()
    results.add_argument(
        "--results", type=Path, metavar="DB", help="also add the results to this results file"
    )
    results.add_argument(
        "--shared-results",
        action="store_true",
        help="also add the results where the proxy adds its own: the store of "
        "$STRANGLER_STORE_URL, else $STRANGLER_VAR_DIR/compare/results.sqlite3",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=REQUEST_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help=f"per request and side (default {REQUEST_TIMEOUT_SECONDS:g})",
    )
    parser.add_argument(
        "--base-twice",
        type=_share,
        default=DEFAULT_BASE_TWICE,
        metavar="SHARE",
        help=f"share of safe requests sent to the base twice to learn its noise "
        f"(default {DEFAULT_BASE_TWICE:g})",
    )
    parser.add_argument(
        "--candidate-twice",
        type=_share,
        default=0.0,
        metavar="SHARE",
        help="share of safe requests also sent to the candidate twice (default 0)",
    )
    parser.add_argument(
        "--header",
        type=_header,
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="send with every request (e.g. credentials, Host); repeatable",
    )
    parser.add_argument("--seed", type=int, default=0, help="which requests go twice")
    parser.set_defaults(command=compare_replay, compare_parser=parser)

    commands = parser.add_subparsers(dest="compare_command", metavar="[report]")
    report = commands.add_parser(
        "report",
        help="render the persisted comparison results",
        description="Render the results the proxy and replays wrote: to the store of "
        "$STRANGLER_STORE_URL when set, else to a results file. Exit 0: no real difference; "
        "1: real differences; 2: no results.",
    )
    report.add_argument(
        "--results",
        type=Path,
        metavar="DB",
        default=argparse.SUPPRESS,
        help="the results file (default: the store of $STRANGLER_STORE_URL when set, else "
        "$STRANGLER_VAR_DIR/compare/results.sqlite3)",
    )
    report.add_argument("--json", action="store_true", help="print the JSON report")
    report.add_argument("--junit", type=Path, metavar="F", help="write JUnit XML to F")
    report.add_argument("--html", type=Path, metavar="F", help="write the HTML page to F")
    report.set_defaults(command=compare_report)
