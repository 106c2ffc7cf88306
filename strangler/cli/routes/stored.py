"""The route table in the shared control store: ``routes import``, ``routes export``,
``routes history``, and ``routes set`` when no proxy answers.

Once the store holds a table it is the truth: every replica serves it, and a table file only
seeded it. A change made here is validated by the proxy's checker on a staged copy, written
as a compare-and-set on the table's version (another writer first: read, edit and check
again), recorded in the audit trail with the operator as the actor, and reported with the
replicas that served it within a second.
"""

from __future__ import annotations

import datetime
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from strangler import routes_file
from strangler.cli.errors import CommandError, ExitCode
from strangler.cli.routes.checker import check_report
from strangler.control import ControlStore, TableRecord, VersionConflict
from strangler.proxy_admin import operator

__all__ = [
    "CONVERGE_REPORT_SECONDS",
    "as_written",
    "export_table",
    "fleet_served",
    "import_table",
    "print_history",
    "route_fields",
    "set_in_store",
    "show_history",
    "stored_table",
]

# The bound: a change reaches every replica within 1 s. A command reports who served
# it by then rather than waiting longer; `routes list` shows a replica that lags.
CONVERGE_REPORT_SECONDS = 1.0
# Writers racing on one table are people and plans, a few a minute: a change that loses
# five rounds in a row is fighting a loop, and says so.
CAS_ATTEMPTS = 5


def stored_table(store: ControlStore) -> TableRecord:
    """The store's table; refused when it holds none yet."""
    record = store.read_table()
    if record is None:
        raise CommandError(
            f"the control store at {store.where} holds no route table yet: a proxy started "
            "with STRANGLER_STORE_URL seeds it from its table file, or give one with "
            "`strangler routes import FILE`",
            exit_code=ExitCode.REFUSED,
        )
    return record


def check_text(text: str, *, source: str) -> dict[str, Any]:
    """The proxy checker's report on ``text`` (staged in a temporary file), naming ``source``."""
    with tempfile.TemporaryDirectory(prefix="strangler-routes-") as directory:
        staged = Path(directory) / "routes.yaml"
        staged.write_text(text, encoding="utf-8")
        return check_report(staged, source=source)


def fleet_served(store: ControlStore, version: int) -> str:
    """Which replicas serve table ``version`` within :data:`CONVERGE_REPORT_SECONDS`."""
    ack = store.wait_for_fleet(table_version=version, timeout=CONVERGE_REPORT_SECONDS)
    served = len(ack.acknowledged)
    total = served + len(ack.missing)
    if total == 0:
        return "no proxy replica has joined the fleet yet; each serves it when it starts"
    if ack.complete:
        return f"served by all {total} proxy replica(s) within {CONVERGE_REPORT_SECONDS:g} s"
    return (
        f"served by {served} of {total} proxy replicas within {CONVERGE_REPORT_SECONDS:g} s; "
        f"not yet by {ack.describe_missing()} (`strangler routes list` shows the fleet)"
    )


def import_table(store: ControlStore, path: Path) -> int:
    """Replace the store's table with ``path``'s text (checked first), whatever it held."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(
            f"cannot read {path}: {exc.strerror or exc}", exit_code=ExitCode.CANNOT_RUN
        ) from exc
    report = check_report(path, source=path)
    if not report["valid"]:
        raise CommandError(
            f"refused, the store's table is unchanged: {report['error']}",
            exit_code=ExitCode.REFUSED,
        )
    for finding in report.get("findings", []):
        print(f"{finding['severity']}: route {finding['route']!r}: {finding['message']}")
    current = store.read_table()
    if current is not None and current.text == text:
        print(f"{path} is already the store's table (version {current.version}): nothing written")
        return ExitCode.OK
    written = store.write_table(
        text,
        expected_version=None,
        actor=operator(),
        via="import",
        action="import",
        subject="table",
        before={"version": current.version} if current else None,
        after={"source": str(path)},
    )
    print(
        f"imported {path} into the control store at {store.where}: table version "
        f"{written.version}; {fleet_served(store, written.version)}"
    )
    return ExitCode.OK


def export_table(store: ControlStore) -> int:
    """Print the store's table: the YAML text as written, comments kept."""
    sys.stdout.write(stored_table(store).text)
    return ExitCode.OK


def set_in_store(
    store: ControlStore, name: str, change: routes_file.RouteChange, *, force: bool, summary: str
) -> int:
    """Change one route in the store's table: edit, check, compare-and-set, audit, report."""
    for _ in range(CAS_ATTEMPTS):
        record = stored_table(store)
        try:
            edited = routes_file.edit_route(record.text, name, change, force=force)
        except routes_file.RoutesFileError as exc:
            raise CommandError(
                f"refused: the store's table: {exc.message}", exit_code=ExitCode.REFUSED
            ) from exc
        if edited == record.text:
            print(f"route {name} in the control store: {summary}: unchanged, already so")
            return ExitCode.OK
        source = f"the store's route table (version {record.version})"
        report = check_text(edited, source=source)
        if not report["valid"]:
            raise CommandError(
                f"refused, the store's table is unchanged: {report['error']}",
                exit_code=ExitCode.REFUSED,
            )
        try:
            written = store.write_table(
                edited,
                expected_version=record.version,
                actor=operator(),
                via="cli",
                action="set",
                subject=f"route:{name}",
                before=route_fields(record.text, name, change),
                after={key: as_written(value) for key, value in change.items()},
            )
        except VersionConflict:
            continue  # another writer got there first: edit what it left
        print(
            f"route {name} in the control store at {store.where}: {summary} (table version "
            f"{written.version}, the proxy's admin API was not reached); "
            f"{fleet_served(store, written.version)}"
        )
        return ExitCode.OK
    raise CommandError(
        f"the store's route table changed under this change {CAS_ATTEMPTS} times in a row; "
        "try again",
        exit_code=ExitCode.CANNOT_RUN,
    )


def as_written(value: object) -> object:
    # 25.0 from the command line is written in the table as 25: the audit says what it holds.
    return int(value) if isinstance(value, float) and value.is_integer() else value


def route_fields(text: str, name: str, change: routes_file.RouteChange) -> dict[str, Any]:
    """The route's values of the fields ``change`` sets, before it (for the audit trail)."""
    try:
        document = YAML(typ="safe").load(text)
    except YAMLError:
        return {}
    routes = document.get("routes") if isinstance(document, dict) else None
    route = next((r for r in routes or [] if isinstance(r, dict) and r.get("name") == name), None)
    if route is None:
        return {}
    shadow = route.get("shadow")
    if not isinstance(shadow, dict):
        shadow = {}
    return {
        key: shadow.get("sample_rate") if key == "shadow_sample_rate" else route.get(key)
        for key, _ in change.items()
    }


def print_history(store: ControlStore, *, limit: int, json_output: bool) -> int:
    """The store's audit trail: its newest ``limit`` entries, oldest first."""
    entries = [entry.as_json() for entry in store.audit(limit=limit)]
    return show_history(
        entries, where=f"the control store at {store.where}", store=store.where,
        json_output=json_output,
    )  # fmt: skip


def show_history(
    entries: list[dict[str, Any]],
    *,
    where: str,
    store: str,
    json_output: bool,
    problem: str | None = None,
) -> int:
    """Print audit entries (``AuditRecord.as_json``'s shape), oldest first; a trail found
    broken (``problem``) is said after them, and the command is refused (exit 1)."""
    if json_output:
        print(json.dumps({"store": store, "entries": entries, "problem": problem}, indent=2))
    elif not entries:
        print(f"The audit trail in {where} is empty.")
    for entry in [] if json_output else entries:
        at = datetime.datetime.fromtimestamp(float(entry["at"]), datetime.UTC)
        line = f"{at:%Y-%m-%d %H:%M:%S}Z  #{entry['id']}  {entry['actor']} via {entry['via']}: "
        line += f"{entry['action']} {entry['subject']}"
        if entry.get("before") is not None or entry.get("after") is not None:
            line += f"  {_compact(entry.get('before'))} -> {_compact(entry.get('after'))}"
        print(line)
    if problem is not None:
        raise CommandError(
            f"the audit trail in {where} is damaged: {problem}. Its entries cannot be "
            "trusted from that line on; keep the file as it is for inspection.",
            exit_code=ExitCode.REFUSED,
        )
    return ExitCode.OK


def _compact(value: object) -> str:
    return "-" if value is None else json.dumps(value, sort_keys=True, separators=(", ", ": "))
