"""``strangler compare``: replay requests against two base URLs and compare the answers;
``strangler compare report``: render the results the proxy and earlier replays persisted.

    strangler compare --base http://127.0.0.1:8100 --candidate http://127.0.0.1:8200 \\
        --requests requests.jsonl [--concurrency 8] [--rate 50] [--allow-writes] \\
        [--rules routes.yaml] [--report-json F] [--report-junit F] [--report-html F] \\
        [--results DB]
    strangler compare report [--results DB] [--json | --junit F | --html F]

``--requests`` is a JSONL capture, a HAR file or ``METHOD PATH`` lines
(``strangler.compare.captures``). Exit status: 0 no real difference, 1 real differences
(or candidate errors), 2 could not run (bad arguments, an unreadable file, a side that
cannot be reached, nothing that could be compared).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from strangler.cli.errors import CommandError, ExitCode
from strangler.compare.captures import CaptureInvalid, CaptureRecord, read_requests
from strangler.compare.compiled import RuleBook
from strangler.compare.engine import CompareEngine
from strangler.compare.errors import RulesInvalid
from strangler.compare.replay import (
    DEFAULT_BASE_TWICE,
    DEFAULT_CONCURRENCY,
    REQUEST_TIMEOUT_SECONDS,
    ReplayCannotRun,
    ReplayOutcome,
    ReplaySettings,
    ReplaySettingsInvalid,
    ReplaySummary,
    replay,
)
from strangler.compare.reports import (
    ReportMeta,
    failing,
    print_summary,
    render_html,
    render_json,
    render_junit,
)
from strangler.compare.results import (
    ResultsError,
    ResultsMissing,
    ResultsStore,
    ResultsWriter,
    default_results_path,
)
from strangler.compare.route_report import RouteReport
from strangler.compare.rulefile import RouteNamer, load_rules

__all__ = ["compare_replay", "compare_report", "register"]

# During a long replay the results file is brought up to date this often, so `compare
# report` (or a gate) sees a run in progress; one flush is a ~1 ms transaction.
FLUSH_EVERY_SECONDS = 5.0


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
    parser.add_argument(
        "--results", type=Path, metavar="DB", help="also add the results to this results file"
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
        description="Render the results the proxy and replays wrote to a results file. Exit "
        "0: no real difference; 1: real differences; 2: no results file.",
    )
    report.add_argument(
        "--results",
        type=Path,
        metavar="DB",
        default=argparse.SUPPRESS,
        help="the results file (default: $STRANGLER_VAR_DIR/compare/results.sqlite3)",
    )
    report.add_argument("--json", action="store_true", help="print the JSON report")
    report.add_argument("--junit", type=Path, metavar="F", help="write JUnit XML to F")
    report.add_argument("--html", type=Path, metavar="F", help="write the HTML page to F")
    report.set_defaults(command=compare_report)


def _cannot_run(message: str) -> CommandError:
    return CommandError(message, exit_code=ExitCode.CANNOT_RUN)


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _cannot_run(f"cannot write {path}: {exc.strerror or exc}") from exc


def _render(
    reports: list[RouteReport],
    meta: ReportMeta,
    *,
    json_file: Path | None,
    junit_file: Path | None,
    html_file: Path | None,
) -> None:
    if json_file is not None:
        _write(json_file, render_json(reports, meta))
    if junit_file is not None:
        _write(junit_file, render_junit(reports, meta))
    if html_file is not None:
        _write(html_file, render_html(reports, meta))


def _outcome_status(reports: list[RouteReport]) -> int:
    return int(ExitCode.REFUSED if any(failing(r) for r in reports) else ExitCode.OK)


def _settings(args: argparse.Namespace) -> ReplaySettings:
    missing = [f"--{n}" for n in ("base", "candidate", "requests") if getattr(args, n) is None]
    if missing:
        args.compare_parser.error(f"{', '.join(missing)} required (or: compare report)")
    try:
        return ReplaySettings(
            base=args.base,
            candidate=args.candidate,
            concurrency=args.concurrency,
            rate=args.rate,
            allow_writes=args.allow_writes,
            timeout=args.timeout,
            base_twice=args.base_twice,
            candidate_twice=args.candidate_twice,
            headers=tuple(args.header),
            seed=args.seed,
        )
    except ReplaySettingsInvalid as exc:
        raise _cannot_run(f"--{exc.field.replace('_', '-')}: {exc}") from exc


def compare_replay(args: argparse.Namespace) -> int:
    settings = _settings(args)
    try:
        records = read_requests(args.requests)
        book, namer = load_rules(args.rules) if args.rules else (RuleBook(), RouteNamer())
    except (CaptureInvalid, RulesInvalid) as exc:
        raise _cannot_run(str(exc)) from exc
    if not records:
        raise _cannot_run(f"{args.requests}: no requests in the file")
    engine = CompareEngine(book)
    store = writer = None
    if args.results is not None:
        try:
            store = ResultsStore(args.results)
        except ResultsError as exc:
            raise _cannot_run(str(exc)) from exc
        writer = ResultsWriter(engine, store)
    try:
        summary = _run(records, settings, engine, namer, writer)
    except ReplayCannotRun as exc:
        raise _cannot_run(str(exc)) from exc
    finally:
        # Also on Ctrl-C: what was compared until then is kept.
        if writer is not None and store is not None:
            try:
                writer.flush()
            except ResultsError as exc:
                raise _cannot_run(str(exc)) from exc
            finally:
                store.close()
    reports = engine.reports()
    meta = ReportMeta(
        base=settings.base, candidate=settings.candidate, source=f"replay of {args.requests}"
    )
    print_summary(reports, meta, Console(soft_wrap=False))
    _render(
        reports,
        meta,
        json_file=args.report_json,
        junit_file=args.report_junit,
        html_file=args.report_html,
    )
    for reason, n in sorted(summary.skipped.items()):
        print(f"skipped {n} request(s): {reason}", file=sys.stderr)
    if not summary.replayed:
        raise _cannot_run(f"nothing to compare: all {summary.total} requests were skipped")
    if not any(r.totals.compared for r in reports):
        raise _cannot_run(
            f"nothing could be compared: of {summary.replayed} requests replayed, none got "
            "an answer from the base to compare against"
        )
    return _outcome_status(reports)


def _run(
    records: list[CaptureRecord],
    settings: ReplaySettings,
    engine: CompareEngine,
    namer: RouteNamer,
    writer: ResultsWriter | None,
) -> ReplaySummary:
    console = Console(stderr=True)
    columns = (
        TextColumn("replaying"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[diff]}"),
        TimeRemainingColumn(),
    )
    last_flush = time.monotonic()
    differing = 0
    # A bar is for a person watching; in a pipe or a log it would only be noise.
    with Progress(
        *columns, console=console, transient=False, disable=not console.is_terminal
    ) as progress:
        task = progress.add_task("replay", total=len(records), diff="")

        def advance(outcome: ReplayOutcome) -> None:
            nonlocal last_flush, differing
            if outcome.result is not None and not outcome.result.equal:
                differing += 1
            progress.update(task, advance=1, diff=f"{differing} not equal")
            if writer is not None and time.monotonic() - last_flush >= FLUSH_EVERY_SECONDS:
                writer.flush()
                last_flush = time.monotonic()

        return asyncio.run(
            replay(records, settings=settings, engine=engine, namer=namer, on_outcome=advance)
        )


def compare_report(args: argparse.Namespace) -> int:
    path = getattr(args, "results", None) or default_results_path()
    try:
        with ResultsStore(path, create=False) as store:
            reports = store.reports()
    except ResultsMissing as exc:
        raise _cannot_run(
            f"{exc}: run `strangler compare ... --results {path}` or let the proxy write it"
        ) from exc
    except ResultsError as exc:
        raise _cannot_run(str(exc)) from exc
    meta = ReportMeta(source=f"results {path}")
    if args.json:
        sys.stdout.write(render_json(reports, meta))
    elif args.junit is None and args.html is None:
        print_summary(reports, meta, Console(soft_wrap=False))
    _render(reports, meta, json_file=None, junit_file=args.junit, html_file=args.html)
    return _outcome_status(reports)
