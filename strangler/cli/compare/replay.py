"""``strangler compare``: replay requests against a base and a candidate, with a progress
bar for a person watching, and compare the answers."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from strangler.cli.compare.output import cannot_run, exit_status, write_reports
from strangler.compare.captures import CaptureInvalid, CaptureRecord, read_requests
from strangler.compare.compiled import RuleBook
from strangler.compare.engine import CompareEngine
from strangler.compare.errors import RulesInvalid
from strangler.compare.replay import (
    ReplayCannotRun,
    ReplayOutcome,
    ReplaySettings,
    ReplaySettingsInvalid,
    ReplaySummary,
    replay,
)
from strangler.compare.reports import ReportMeta, print_summary
from strangler.compare.results import ResultsError, ResultsWriter, open_results
from strangler.compare.rulefile import RouteNamer, load_rules

__all__ = ["compare_replay"]

# During a long replay the results are brought up to date this often, so `compare
# report` (or a gate) sees a run in progress; one flush is a ~1 ms transaction.
FLUSH_EVERY_SECONDS = 5.0


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
        raise cannot_run(f"--{exc.field.replace('_', '-')}: {exc}") from exc


def compare_replay(args: argparse.Namespace) -> int:
    settings = _settings(args)
    try:
        records = read_requests(args.requests)
        book, namer = load_rules(args.rules) if args.rules else (RuleBook(), RouteNamer())
    except (CaptureInvalid, RulesInvalid) as exc:
        raise cannot_run(str(exc)) from exc
    if not records:
        raise cannot_run(f"{args.requests}: no requests in the file")
    engine = CompareEngine(book)
    store = writer = None
    if args.results is not None or args.shared_results:
        try:
            store = open_results(args.results)
        except ResultsError as exc:
            raise cannot_run(str(exc)) from exc
        writer = ResultsWriter(engine, store)
    try:
        summary = _run(records, settings, engine, namer, writer)
    except ReplayCannotRun as exc:
        raise cannot_run(str(exc)) from exc
    finally:
        # Also on Ctrl-C: what was compared until then is kept.
        if writer is not None and store is not None:
            try:
                writer.flush()
            except ResultsError as exc:
                raise cannot_run(str(exc)) from exc
            finally:
                store.close()
    reports = engine.reports()
    meta = ReportMeta(
        base=settings.base, candidate=settings.candidate, source=f"replay of {args.requests}"
    )
    print_summary(reports, meta, Console(soft_wrap=False))
    write_reports(
        reports,
        meta,
        json_file=args.report_json,
        junit_file=args.report_junit,
        html_file=args.report_html,
    )
    for reason, n in sorted(summary.skipped.items()):
        print(f"skipped {n} request(s): {reason}", file=sys.stderr)
    if not summary.replayed:
        raise cannot_run(f"nothing to compare: all {summary.total} requests were skipped")
    if not any(r.totals.compared for r in reports):
        raise cannot_run(
            f"nothing could be compared: of {summary.replayed} requests replayed, none got "
            "an answer from the base to compare against"
        )
    return exit_status(reports)


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
