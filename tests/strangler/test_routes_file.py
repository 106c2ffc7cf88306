"""Editing one route of the table file: the change lands, the rest of the file stays as written."""

from __future__ import annotations

import difflib
import os
import stat
import threading
from pathlib import Path

import pytest

from strangler import routes_file
from strangler.routes_file import (
    BadChange,
    RampRefused,
    RouteChange,
    RouteNotFound,
    RoutesFileError,
    TableBusy,
    edit_route,
)

TABLE = """\
# The storefront's route table.
version: 1
legacy: monolith                 # anything unrouted
upstreams:
  monolith: {url: "http://127.0.0.1:8100"}
  catalog:
    url: 'http://127.0.0.1:8200'
    timeouts: {connect: 2, read: 30, total: 60}
routes:
  - name: product-detail
    path: /api/v1/products/<int:id>/    # whole path
    methods: [GET, HEAD]
    owner: catalog                      # moves first
    mode: canary                        # ramping
    canary_percent: 10
    fallback: true

  # Listing and search: compared first.
  - name: catalog-api
    prefix: /api/v1/products/
    owner: catalog   # the service
    methods:
      - GET
      - HEAD   # no writes yet
  - {name: categories, prefix: /api/v1/categories/, owner: catalog}   # flow style
  - name: cart
    prefix: /cart/
    owner: monolith
    shadow:
      sample_rate: 0.5  # half
    # more routes go here
# end of table
"""


def changed_lines(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]


def test_changing_a_value_rewrites_only_its_line_and_keeps_its_comment() -> None:
    edited = edit_route(TABLE, "product-detail", RouteChange(canary_percent=25, mode="canary"))

    assert changed_lines(TABLE, edited) == [
        "-    canary_percent: 10",
        "+    canary_percent: 25",
    ]


def test_a_new_field_goes_after_the_route_and_before_what_followed_it() -> None:
    edited = edit_route(TABLE, "catalog-api", RouteChange(mode="shadow", fallback=False))

    assert changed_lines(TABLE, edited) == ["+    mode: shadow", "+    fallback: false"]
    assert "      - HEAD   # no writes yet\n    mode: shadow\n    fallback: false\n" in edited


def test_a_new_field_keeps_the_blank_line_and_comment_that_followed_the_route() -> None:
    change = RouteChange(owner="catalog", shadow_sample_rate=0.25)

    edited = edit_route(TABLE, "product-detail", change)

    assert changed_lines(TABLE, edited) == ["+    shadow:", "+      sample_rate: 0.25"]
    assert "    shadow:\n      sample_rate: 0.25\n\n  # Listing and search" in edited


def test_the_last_route_keeps_the_comments_that_end_the_file() -> None:
    edited = edit_route(TABLE, "cart", RouteChange(fallback=True, shadow_sample_rate=0.75))

    assert changed_lines(TABLE, edited) == [
        "-      sample_rate: 0.5  # half",
        "+      sample_rate: 0.75 # half",
        "+    fallback: true",
    ]
    assert edited.endswith("    fallback: true\n    # more routes go here\n# end of table\n")


def test_a_flow_style_route_stays_on_its_line() -> None:
    edited = edit_route(TABLE, "categories", RouteChange(mode="service"))

    assert changed_lines(TABLE, edited) == [
        "-  - {name: categories, prefix: /api/v1/categories/, owner: catalog}   # flow style",
        "+  - {name: categories, prefix: /api/v1/categories/, owner: catalog, mode: service} "
        "# flow style",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "routes:\n- name: a\n  prefix: /a/\n  owner: catalog\nupstreams:\n  x:\n    url: u\n",
        "routes:\n    -   name: a\n        prefix: /a/\n        owner: catalog\n",
        "upstreams:\n    x:\n        url: u\nroutes:\n  - name: a\n    owner: catalog\n",
    ],
    ids=["dash-at-key-column", "wide", "four-space-mappings"],
)
def test_the_files_own_indentation_is_kept(text: str) -> None:
    edited = edit_route(text, "a", RouteChange(mode="shadow"))

    owner_line = next(line for line in text.splitlines() if "owner:" in line)
    indent = owner_line[: len(owner_line) - len(owner_line.lstrip())]
    assert changed_lines(text, edited) == [f"+{indent}mode: shadow"]
    assert f"{owner_line}\n{indent}mode: shadow\n" in edited


def test_a_change_to_the_values_already_there_returns_the_text_unchanged() -> None:
    edited = edit_route(
        TABLE, "product-detail", RouteChange(owner="catalog", canary_percent=10.0, fallback=True)
    )

    assert edited is TABLE


def test_an_unknown_route_is_named_with_the_routes_there_are() -> None:
    with pytest.raises(RouteNotFound, match=r"no route named 'nope'.*product-detail, catalog-api"):
        edit_route(TABLE, "nope", RouteChange(mode="service"))


@pytest.mark.parametrize(
    "text", ["routes: [unclosed\n", "- just\n- a list\n", "routes: {not: a list}\n"]
)
def test_a_file_that_is_not_a_table_cannot_be_edited(text: str) -> None:
    with pytest.raises(RoutesFileError) as caught:
        edit_route(text, "a", RouteChange(mode="service"))

    assert caught.value.code == "table_unreadable"


def test_lowering_a_canary_is_refused_and_says_how_to_force_it() -> None:
    with pytest.raises(RampRefused, match=r"canary 10%.*--force") as caught:
        edit_route(TABLE, "product-detail", RouteChange(canary_percent=5))

    assert caught.value.code == "canary_ramp_down"


@pytest.mark.parametrize(
    ("change", "force"),
    [
        (RouteChange(canary_percent=5), True),
        (RouteChange(canary_percent=50), False),
        (RouteChange(mode="shadow", canary_percent=0), False),
    ],
    ids=["forced", "raised", "leaving-canary"],
)
def test_a_canary_may_rise_be_forced_down_or_leave_canary_mode(
    change: RouteChange, force: bool
) -> None:
    edited = edit_route(TABLE, "product-detail", change, force=force)

    assert f"canary_percent: {change.canary_percent:g}" in edited


def test_a_route_not_in_canary_mode_may_start_a_canary_at_any_percentage() -> None:
    edited = edit_route(TABLE, "catalog-api", RouteChange(mode="canary", canary_percent=1))

    assert "    mode: canary\n    canary_percent: 1\n" in edited


def test_a_change_from_json_checks_field_names_and_types() -> None:
    assert RouteChange.from_mapping({"mode": "service", "canary_percent": 5, "owner": None}) == (
        RouteChange(mode="service", canary_percent=5)
    )
    with pytest.raises(BadChange, match=r"unknown field.*path"):
        RouteChange.from_mapping({"path": "/x/"})
    with pytest.raises(BadChange, match="'canary_percent': expected a number, got True"):
        RouteChange.from_mapping({"canary_percent": True})
    with pytest.raises(BadChange, match="'fallback': expected true or false"):
        RouteChange.from_mapping({"fallback": "yes"})


def test_write_atomically_replaces_the_file_keeping_its_permissions(tmp_path: Path) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text("old\n")
    path.chmod(0o640)
    inode_before = path.stat().st_ino

    routes_file.write_atomically(path, "new\n")

    assert path.read_text() == "new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert path.stat().st_ino != inode_before  # renamed into place, never written in place
    assert os.listdir(tmp_path) == ["routes.yaml"]


def test_write_atomically_through_a_symlink_replaces_its_target(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "routes.yaml"
    target.write_text("old\n")
    link = tmp_path / "routes.yaml"
    link.symlink_to(target)

    routes_file.write_atomically(link, "new\n")

    assert link.is_symlink()
    assert target.read_text() == "new\n"


def test_a_staged_file_left_uncommitted_does_not_touch_the_table(tmp_path: Path) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text("old\n")

    staged = routes_file.stage(path, "new\n")

    assert staged.parent == tmp_path
    assert staged.read_text() == "new\n"
    assert path.read_text() == "old\n"


def test_a_second_writer_waits_for_the_lock_then_gives_up(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(routes_file, "LOCK_TIMEOUT_SECONDS", 0.2)
    path = tmp_path / "routes.yaml"
    path.write_text("routes: []\n")
    outcome: list[BaseException | None] = []

    def second_writer() -> None:
        try:
            with routes_file.locked(path):
                outcome.append(None)
        except TableBusy as exc:
            outcome.append(exc)

    with routes_file.locked(path):
        thread = threading.Thread(target=second_writer)
        thread.start()
        thread.join(timeout=10)

    assert len(outcome) == 1
    assert isinstance(outcome[0], TableBusy)
    with routes_file.locked(path):  # released: the next writer gets it at once
        pass


def test_an_edit_keeps_the_environment_references_as_written() -> None:
    text = TABLE.replace('"http://127.0.0.1:8100"', '"http://127.0.0.1:${MONOLITH_PORT:-8100}"')
    text = text.replace("'http://127.0.0.1:8200'", "http://${CATALOG_HOST}:${CATALOG_PORT}")

    edited = edit_route(text, "product-detail", RouteChange(canary_percent=25))

    assert changed_lines(text, edited) == ["-    canary_percent: 10", "+    canary_percent: 25"]
    assert '{url: "http://127.0.0.1:${MONOLITH_PORT:-8100}"}' in edited
    assert "url: http://${CATALOG_HOST}:${CATALOG_PORT}\n" in edited
