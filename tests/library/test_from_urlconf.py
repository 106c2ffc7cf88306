"""``strangler routes from-urlconf`` on the library monolith: every path Django's resolver
answers is routed by the proxy to the route of the pattern Django picks (a corpus built from
every pattern, and concrete paths of the library's own: UUIDs, integer keys, slugs, trailing
slashes), and the paths Django answers with no pattern get no route of their own."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.urls import Resolver404, get_resolver, resolve
from shelf.models import Book

from tests.library.conftest import PROJECT
from tests.strangler.test_cli_from_urlconf import generate, route_table
from tests.strangler.urlconf_resolve import corpus

SETTINGS = "library.settings"
BOOK = "123e4567-e89b-12d3-a456-426614174000"
SEEDED = str(uuid.uuid5(uuid.UUID("6f1c1e2a-3b7d-4c55-9a0e-2d7f5b8c9e10"), "the-silent-cities"))

# Paths of the library's own shape that Django answers, with the view's URL name.
RESOLVED = {
    "/": "home",
    "/books/": "shelf:book-list",
    f"/books/{BOOK}/": "shelf:book-detail",
    f"/books/{SEEDED}/": "shelf:book-detail",
    "/books/by-slug/the-silent-cities/": "shelf:book-by-slug",
    "/books/by-slug/42/": "shelf:book-by-slug",
    "/books/by-slug/the-silent-cities/copies/": "shelf:book-copies",
    "/books/published/1984/": "shelf:year",
    "/authors/": "shelf:author-list",
    "/authors/7/": "shelf:author-detail",
    "/authors/0/": "shelf:author-detail",
    "/accounts/login/": "members:login",
    "/accounts/logout/": "members:logout",
    "/accounts/me/": "members:profile",
    "/loans/": "loans:mine",
    f"/loans/borrow/{BOOK}/": "loans:borrow",
    "/loans/12/return/": "loans:return",
    "/api/books/": "api:book-list",
    f"/api/books/{SEEDED}/": "api:book-detail",
    "/api/authors/": "api:author-list",
    "/api/authors/3/": "api:author-detail",
    "/api/loans/": "api:loan-list",
    "/api/loans/5/": "api:loan-detail",
    "/api/loans/5/return/": "api:loan-return",
    "/api/me/": "api:me",
    "/admin/": "admin:index",
    "/admin/shelf/book/": "admin:shelf_book_changelist",
    "/admin/loans/": "admin:app_list",
}

# Paths Django answers with no pattern: a key of the wrong shape (an upper-case UUID too),
# a missing trailing slash
# (CommonMiddleware's redirect, from the monolith), one segment too many.
UNRESOLVED = [
    "/books", "/books/42/", "/books/not-a-uuid/", f"/books/{BOOK.upper()}/", f"/books/{BOOK}",
    f"/books/{BOOK}/extra/", f"/books/{BOOK[:-1]}/", "/books/by-slug/", "/books/by-slug/a b/",
    "/books/by-slug/x/y/", "/books/by-slug/x/copies", "/books/by-slug/copies/x/",
    "/books/published/84/", "/books/published/19845/",
    "/authors", "/authors/x/", "/authors/-1/", "/authors/7", "/authors/7/books/",
    "/accounts/", "/accounts/login", "/loans/borrow/42/", "/loans/x/return/", "/loans/12/",
    "/api/", "/api/books/42/", f"/api/books/{BOOK}", "/api/authors/ursula/", "/api/authors/1.5/",
    "/api/loans/x/", "/api/me", "/apis/books/", "/library/books/", "/static/x.css",
]  # fmt: skip

# Paths under a pattern the proxy only widened to its prefix: the table may take them (to
# the monolith, which answers 404 as Django would), as the report says.
WIDENED_PREFIXES = ("/books/published/", "/admin/")


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> Iterator[dict[str, tuple[dict[str, Any], Path]]]:
    """The table and report, per pattern and per app: the command reads the URLconf in a
    child process, which finds the project through PYTHONPATH."""
    with pytest.MonkeyPatch.context() as patch:
        paths = [str(PROJECT), *filter(None, [os.environ.get("PYTHONPATH")])]
        patch.setenv("PYTHONPATH", os.pathsep.join(paths))
        found = {}
        for per in ("pattern", "app"):
            out = tmp_path_factory.mktemp("from-urlconf") / "routes.yaml"
            found[per] = (generate(SETTINGS, "--per", per, out=out), out)
        yield found


def _expected_routes(report: dict[str, Any]) -> dict[tuple[str, str], str | None]:
    """The route each Django pattern (route, view) has in the table, None where it has none."""
    expected: dict[tuple[str, str], str | None] = {
        (entry["django_route"], entry["view"]): None
        for entry in report["inexpressible"]
        if entry["route"] is None
    }
    for route in report["routes"]:
        for pattern in route["patterns"]:
            expected[pattern["django_route"], pattern["view"]] = route["name"]
    return expected


def _built_corpus() -> list[str]:
    paths = sorted(set(corpus(get_resolver(), ["/"])))
    return [*paths, *(path + "extra/" for path in paths)]


def _mismatches(per: str, tables, paths: list[str]) -> tuple[int, list[tuple[str, ...]]]:
    report, out = tables[per]
    table = route_table(out)
    expected = _expected_routes(report)
    resolved, wrong = 0, []
    for path in paths:
        try:
            match = resolve(path)
        except Resolver404:
            continue
        resolved += 1
        routed = table.match("GET", path)
        name = routed.name if routed is not None else None
        if expected[match.route, match._func_path] != name:
            wrong.append((path, match._func_path, str(name)))
    return resolved, wrong


@pytest.mark.parametrize("per", ["pattern", "app"])
def test_every_path_built_from_the_urlconf_gets_the_route_of_djangos_pattern(
    tables, per: str
) -> None:
    resolved, wrong = _mismatches(per, tables, _built_corpus())

    assert wrong == []
    assert resolved > 300


@pytest.mark.parametrize("per", ["pattern", "app"])
def test_the_librarys_own_paths_get_the_route_of_djangos_pattern(tables, per: str) -> None:
    assert {path: resolve(path).view_name for path in RESOLVED} == RESOLVED

    resolved, wrong = _mismatches(per, tables, list(RESOLVED))

    assert wrong == []
    assert resolved == len(RESOLVED)


@pytest.mark.parametrize("per", ["pattern", "app"])
def test_paths_django_does_not_resolve_get_no_exact_route(tables, per: str) -> None:
    _, out = tables[per]
    table = route_table(out)
    for path in UNRESOLVED:
        with pytest.raises(Resolver404):
            resolve(path)

    taken = {path: table.match("GET", path) for path in UNRESOLVED}

    if per == "pattern":
        assert {
            path: route.name
            for path, route in taken.items()
            if route is not None and not path.startswith(WIDENED_PREFIXES)
        } == {}
    # Per app a prefix takes what is under it: the monolith answers those paths, as before.
    assert {path for path, route in taken.items() if route is None} >= {
        "/books", "/authors", "/apis/books/", "/library/books/", "/static/x.css",
    }  # fmt: skip


def test_per_pattern_each_view_is_a_route_named_after_its_url_name(tables) -> None:
    report, _ = tables["pattern"]

    routes = {
        route["name"]: (route["kind"], route["pattern"])
        for route in report["routes"]
        if route["app"] != "admin"
    }

    assert routes == {
        "home": ("path", "/"),
        "api.book-list": ("path", "/api/books/"),
        "api.book-detail": ("path", "/api/books/<uuid:pk>/"),
        "api.loan-list": ("path", "/api/loans/"),
        "api.loan-detail": ("path", "/api/loans/<int:pk>/"),
        "api.loan-return": ("path", "/api/loans/<int:pk>/return/"),
        "api.me": ("path", "/api/me/"),
        # The router's regexes, [0-9]+ as the viewset's lookup_value_regex says.
        "api.author-list": ("path", "/api/authors/"),
        "api.author-detail": ("path", "/api/authors/<int:pk>/"),
        "members.login": ("path", "/accounts/login/"),
        "members.logout": ("path", "/accounts/logout/"),
        "members.profile": ("path", "/accounts/me/"),
        "loans.mine": ("path", "/loans/"),
        "loans.borrow": ("path", "/loans/borrow/<uuid:book_id>/"),
        "loans.return": ("path", "/loans/<int:pk>/return/"),
        "shelf.book-list": ("path", "/books/"),
        "shelf.book-detail": ("path", "/books/<uuid:pk>/"),
        "shelf.book-by-slug": ("path", "/books/by-slug/<slug:slug>/"),
        "shelf.book-copies": ("path", "/books/by-slug/<slug:slug>/copies/"),
        "shelf.year": ("prefix", "/books/published/"),
        "shelf.author-list": ("path", "/authors/"),
        "shelf.author-detail": ("path", "/authors/<int:pk>/"),
    }


def test_a_view_from_outside_the_apps_belongs_to_the_urlconf_that_routes_to_it(tables) -> None:
    report, _ = tables["pattern"]

    home = next(route for route in report["routes"] if route["name"] == "home")

    # Django's RedirectView, routed by library/urls.py: the project's, not django.views'.
    assert home["app"] == "library"
    assert home["patterns"][0]["view"] == "django.views.generic.base.RedirectView"


def test_the_year_regex_is_reported_as_widened_to_its_prefix(tables) -> None:
    report, _ = tables["pattern"]

    outcomes = {
        entry["url_name"]: (entry["exactness"], entry["outcome"])
        for entry in report["inexpressible"]
        if not entry["django_route"].startswith("admin/")
    }

    assert outcomes == {"shelf:year": ("widened", "widened to prefix /books/published/")}


def test_per_app_each_app_gets_its_prefix(tables) -> None:
    report, _ = tables["app"]

    assert {(r["name"], r["kind"], r["pattern"]) for r in report["routes"]} == {
        ("home", "path", "/"),
        ("admin", "prefix", "/admin/"),
        ("api", "prefix", "/api/"),
        ("members-accounts", "prefix", "/accounts/"),
        ("loans", "prefix", "/loans/"),
        ("shelf-books", "prefix", "/books/"),
        ("shelf-authors", "prefix", "/authors/"),
    }


def test_a_seeded_books_uuid_path_is_routed_like_any_uuid(tables, seeded) -> None:
    _, out = tables["pattern"]
    table = route_table(out)
    book = Book.objects.get(slug="the-silent-cities")

    assert str(book.pk) == SEEDED
    assert table.match("GET", f"/books/{book.pk}/").name == "shelf.book-detail"
    assert table.match("POST", f"/loans/borrow/{book.pk}/").name == "loans.borrow"
