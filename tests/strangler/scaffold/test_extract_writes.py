"""A write view copied by ``strangler extract`` answers, in the service, for the proxy's
signed identity: the library's (examples/library) librarians' form, which checks
``request.user.is_staff``, moves with the ``shelf`` app and decides on the identity's claim.

The service is a real extraction of a copy of the library, migrated; the requests go
through Django's test client in a child process of the service (its own settings), with
``X-Strangler-Identity`` signed as the proxy signs it (tutorial 5 does the same through the
running proxy)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.strangler.scaffold.test_extract import PYTHON, REPO, _env, _extract, _ok

LIBRARY = REPO / "examples" / "library"

# Run in the service's directory: a book, then the same POST as three users.
_SCRIPT = """
import json, time
import django
django.setup()
from django.conf import settings
from django.test import Client
from shelf.shelf.models import Author, Book
from strangler.identity import IDENTITY_HEADER, Identity, sign_identity

author = Author.objects.create(name="Octavia E. Butler", slug="octavia-e-butler", born=1947)
Book.objects.create(title="Kindred", slug="kindred", author=author, isbn="9780807083697",
                    published=1979, copies=1)

def signed(staff):
    identity = Identity(user_id="3", username="marian", is_staff=staff)
    value = sign_identity(identity, secret=settings.STRANGLER_IDENTITY_SECRET, now=time.time())
    return {"HTTP_" + IDENTITY_HEADER.upper().replace("-", "_"): value}

answers = {}
for who, headers in (("anonymous", {}), ("member", signed(False)), ("staff", signed(True))):
    response = Client().post("/books/by-slug/kindred/copies/", {"copies": "4"}, **headers)
    answers[who] = [response.status_code, response.get("Location"),
                    Book.objects.get(slug="kindred").copies]
bad = Client().post("/books/by-slug/kindred/copies/", {"copies": "x"}, **signed(True))
answers["bad value"] = [bad.status_code, None, Book.objects.get(slug="kindred").copies]
print(json.dumps(answers))
"""


def test_the_librarys_staff_only_write_answers_for_the_signed_identity(tmp_path: Path) -> None:
    project = tmp_path / "library"  # a copy: extract edits the monolith's side
    shutil.copytree(LIBRARY, project, ignore=shutil.ignore_patterns("*.sqlite3", "__pycache__"))
    env = _env(tmp_path / "var", LIBRARY_DEMO="1", DJANGO_ALLOWED_HOSTS="testserver")
    done = _extract("shelf", "--app", "shelf", env=env, project=project)
    assert done.returncode == 0, done.stderr
    service = tmp_path / "shelf"
    views = (service / "shelf" / "shelf" / "views.py").read_text()
    assert "def set_copies(request, slug):" in views
    assert "request.user.is_staff" in views
    service_env = {**env, "DJANGO_SETTINGS_MODULE": "shelf.settings"}
    _ok([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], env=service_env, cwd=service)

    answers = json.loads(_ok([PYTHON, "-c", _SCRIPT], env=service_env, cwd=service))

    assert answers == {
        "anonymous": [401, None, 1],
        "member": [403, None, 1],
        "staff": [302, "/books/by-slug/kindred/", 4],
        "bad value": [400, None, 4],
    }
