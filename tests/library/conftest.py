"""The library monolith's suite (examples/library), run with ``--ds=library.settings`` and
examples/library on the path before pytest-django reads the settings (``make test-library``:
pytest's ``pythonpath`` option)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2] / "examples" / "library"

ALICE_KEY = "lib_demo_alice"
BOB_KEY = "lib_demo_bob"
LIBRARIAN_KEY = "lib_demo_marian"  # the seed's staff member


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    # The seed sets three passwords and tests sign in: the default hasher's 1M rounds are slow.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def seeded(db) -> None:
    """The demo data: 12 books, alice (one open loan, up to 3), bob (up to 1) and marian
    (a librarian: staff)."""
    from django.core.management import call_command

    call_command("seed_library", books=12, stdout=io.StringIO())


@pytest.fixture
def api():
    from rest_framework.test import APIClient

    return APIClient()


def api_key(key: str) -> dict[str, str]:
    """The headers of a request signed with ``key`` (Django's test clients take them as META)."""
    return {"HTTP_AUTHORIZATION": f"ApiKey {key}"}
