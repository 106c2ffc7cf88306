"""What both ``compare`` commands do with their reports: write the report files, and turn
the reports into an exit status."""

from __future__ import annotations

from pathlib import Path

from strangler.cli.errors import CommandError, ExitCode
from strangler.compare.reports import ReportMeta, failing, render_html, render_json, render_junit
from strangler.compare.route_report import RouteReport

__all__ = ["cannot_run", "exit_status", "write_reports"]


def cannot_run(message: str) -> CommandError:
    """The error for a comparison that could not run (exit status 2)."""
    return CommandError(message, exit_code=ExitCode.CANNOT_RUN)


def _write_file(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise cannot_run(f"cannot write {path}: {exc.strerror or exc}") from exc


def write_reports(
    reports: list[RouteReport],
    meta: ReportMeta,
    *,
    json_file: Path | None,
    junit_file: Path | None,
    html_file: Path | None,
) -> None:
    """Write each report file asked for; a file that cannot be written stops the command."""
    if json_file is not None:
        _write_file(json_file, render_json(reports, meta))
    if junit_file is not None:
        _write_file(junit_file, render_junit(reports, meta))
    if html_file is not None:
        _write_file(html_file, render_html(reports, meta))


def exit_status(reports: list[RouteReport]) -> int:
    """1 when any route has a real difference (or candidate errors), else 0."""
    return int(ExitCode.REFUSED if any(failing(r) for r in reports) else ExitCode.OK)
