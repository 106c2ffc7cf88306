"""``strangler compare report``: render the results the proxy and earlier replays persisted."""

from __future__ import annotations

import argparse
import sys

from rich.console import Console

from strangler.cli.compare.output import cannot_run, exit_status, write_reports
from strangler.compare.reports import ReportMeta, print_summary, render_json
from strangler.compare.results import (
    ResultsError,
    ResultsMissing,
    ResultsStore,
    default_results_path,
)

__all__ = ["compare_report"]


def compare_report(args: argparse.Namespace) -> int:
    path = getattr(args, "results", None) or default_results_path()
    try:
        with ResultsStore(path, create=False) as store:
            reports = store.reports()
    except ResultsMissing as exc:
        raise cannot_run(
            f"{exc}: run `strangler compare ... --results {path}` or let the proxy write it"
        ) from exc
    except ResultsError as exc:
        raise cannot_run(str(exc)) from exc
    meta = ReportMeta(source=f"results {path}")
    if args.json:
        sys.stdout.write(render_json(reports, meta))
    elif args.junit is None and args.html is None:
        print_summary(reports, meta, Console(soft_wrap=False))
    write_reports(reports, meta, json_file=None, junit_file=args.junit, html_file=args.html)
    return exit_status(reports)
