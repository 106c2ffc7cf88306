"""The version rule and each change's fate: pure, no database (strangler/sync/fate.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strangler.sync.fate import Incoming, fates_judge, version_is_newer


def _change(pk: str, version: int, *, table: str = "w", local: str | None = None) -> Incoming:
    return Incoming(sender=(table, pk), row=(f"local_{table}", local or pk), version=version)


@pytest.mark.parametrize(
    ("incoming", "stored", "newer"),
    [(1, None, True), (0, None, True), (3, 2, True), (2, 2, False), (1, 2, False)],
)
def test_only_a_version_above_the_stored_one_is_newer(
    incoming: int, stored: int | None, newer: bool
) -> None:
    assert version_is_newer(incoming, stored) is newer


def test_the_rule_needs_no_django() -> None:
    imports = "import sys, strangler.sync.fate; sys.exit('django' in sys.modules)"

    subprocess.run([sys.executable, "-c", imports], check=True, timeout=60)


def test_a_change_to_a_row_without_a_version_is_written() -> None:
    assert fates_judge([_change("1", 0)], stored={}, parked=()) == ["write"]


def test_a_change_above_the_stored_version_is_written() -> None:
    assert fates_judge([_change("1", 3)], stored={("local_w", "1"): 2}, parked=()) == ["write"]


@pytest.mark.parametrize("version", [1, 2])
def test_an_older_or_equal_version_is_stale(version: int) -> None:
    stored = {("local_w", "1"): 2}

    assert fates_judge([_change("1", version)], stored=stored, parked=()) == ["stale"]


def test_the_stored_version_is_looked_up_by_the_local_key_not_the_sent_one() -> None:
    sent_as = _change("01", 1, local="1")

    assert fates_judge([sent_as], stored={("local_w", "1"): 5}, parked=()) == ["stale"]


def test_of_two_changes_to_one_row_the_higher_version_is_written_in_either_order() -> None:
    older, newer = _change("1", 1), _change("1", 2)

    assert fates_judge([older, newer], stored={}, parked=()) == ["superseded", "write"]
    assert fates_judge([newer, older], stored={}, parked=()) == ["write", "superseded"]


def test_of_two_equal_versions_of_one_row_the_first_is_written() -> None:
    first, second = _change("1", 4), _change("1", 4)

    assert fates_judge([first, second], stored={}, parked=()) == ["write", "superseded"]


def test_a_change_below_the_stored_version_is_stale_even_if_repeated() -> None:
    stored = {("local_w", "1"): 9}

    fates = fates_judge([_change("1", 2), _change("1", 3)], stored=stored, parked=())

    assert fates == ["stale", "stale"]


def test_a_change_to_a_key_with_a_parked_letter_is_parked_behind_whatever_its_version() -> None:
    parked = {("w", "1")}

    fates = fates_judge([_change("1", 9), _change("2", 1)], stored={}, parked=parked)

    assert fates == ["parked_behind", "write"]


def test_parked_keys_are_sender_keys() -> None:
    renamed = Incoming(sender=("sender_w", "1"), row=("local_w", "1"), version=1)

    assert fates_judge([renamed], stored={}, parked={("local_w", "1")}) == ["write"]
    assert fates_judge([renamed], stored={}, parked={("sender_w", "1")}) == ["parked_behind"]


def test_a_change_whose_key_cannot_be_read_is_refused_unless_parked_behind() -> None:
    unreadable = Incoming(sender=("w", "x"), row=None, version=1)

    assert fates_judge([unreadable], stored={}, parked=()) == ["refused"]
    assert fates_judge([unreadable], stored={}, parked={("w", "x")}) == ["parked_behind"]


def test_rows_are_judged_apart() -> None:
    stored = {("local_w", "2"): 5}

    fates = fates_judge(
        [_change("1", 1), _change("2", 5), _change("3", 1, table="p")], stored=stored, parked=()
    )

    assert fates == ["write", "stale", "write"]


_changes = st.lists(
    st.builds(lambda pk, version: _change(str(pk), version), st.integers(1, 4), st.integers(0, 5)),
    max_size=12,
)


@given(
    incoming=_changes,
    stored=st.dictionaries(
        st.integers(1, 4).map(lambda pk: ("local_w", str(pk))), st.integers(0, 5)
    ),
)
def test_each_row_is_written_at_most_once_with_its_highest_newer_version(
    incoming: list[Incoming], stored: dict[tuple[str, str], int]
) -> None:
    fates = fates_judge(incoming, stored=stored, parked=())

    for row in {change.row for change in incoming if change.row is not None}:
        mine = [(c.version, f) for c, f in zip(incoming, fates, strict=True) if c.row == row]
        newer = [v for v, _ in mine if version_is_newer(v, stored.get(row))]
        written = [v for v, f in mine if f == "write"]
        assert written == ([max(newer)] if newer else [])
