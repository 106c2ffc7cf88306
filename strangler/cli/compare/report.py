"""``strangler compare report``: render the results the proxy and earlier replays persisted."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from strangler.cli.compare.output import cannot_run, exit_status, write_reports
from strangler.compare.reports import ReportMeta, print_summary, render_json
from strangler.compare.results import (
    ResultsError,
    ResultsMissing,
    open_results,
    results_location,
)

__all__ = ["compare_report"]


def compare_report(args: argparse.Namespace) -> int:
    try:
        location = results_location(getattr(args, "results", None))
        with open_results(location, create=False) as store:
            reports = store.reports()
    except ResultsMissing as exc:
        where = f"--results {location}" if isinstance(location, Path) else "--shared-results"
        raise cannot_run(
            f"{exc}: run `strangler compare ... {where}` or let the proxy write them"
        ) from exc
    except ResultsError as exc:
        raise cannot_run(str(exc)) from exc
    meta = ReportMeta(source=f"results {location}")
    if args.json:
        sys.stdout.write(render_json(reports, meta))
    elif args.junit is None and args.html is None:
        print_summary(reports, meta, Console(soft_wrap=False))
    write_reports(reports, meta, json_file=None, junit_file=args.junit, html_file=args.html)
    return exit_status(reports)
