"""One Django pattern as the proxy's pattern: exact, approximated, widened or left alone."""

from __future__ import annotations

from strangler.urlconf.patterns import Converter, Piece, translate

INT = Converter("int", "[0-9]+", "django.urls.converters.IntConverter")
UUID = Converter(
    "uuid",
    "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "django.urls.converters.UUIDConverter",
)
KEY = Converter(None, "[0-9]+", "shop.converters.KeyConverter")
HEX = Converter(None, "[0-9a-f]{6}", "shop.converters.HexConverter")


def route(text: str, *, endpoint: bool = True, **converters: Converter) -> Piece:
    return Piece("route", text, endpoint, converters)


def regex(text: str, *, endpoint: bool = True) -> Piece:
    return Piece("regex", text, endpoint)


def test_an_include_and_a_route_with_converters_become_one_path() -> None:
    translation = translate(
        [route("api/", endpoint=False), route("orders/<int:pk>/<uuid:ref>/", pk=INT, ref=UUID)]
    )

    assert (translation.kind, translation.pattern, translation.exactness) == (
        "path",
        "/api/orders/<int:pk>/<uuid:ref>/",
        "exact",
    )
    assert translation.head == "/api/orders/"
    assert translation.sample == "/api/orders/7/00000000-0000-0000-0000-000000000000/"


def test_a_plain_regex_becomes_a_path_with_its_groups_as_converters() -> None:
    translation = translate([regex(r"^reports/(?P<name>[-a-zA-Z0-9_]+)\.csv$")])

    assert (translation.pattern, translation.exactness) == ("/reports/<slug:name>.csv", "exact")


def test_an_unnamed_group_gets_a_name() -> None:
    assert translate([regex(r"^items/([0-9]+)/$")]).pattern == "/items/<int:arg1>/"


def test_a_regex_without_dollar_is_a_prefix_on_its_literal_text() -> None:
    translation = translate([regex(r"^static/")])

    assert (translation.kind, translation.pattern, translation.exactness) == (
        "prefix",
        "/static/",
        "exact",
    )


def test_a_catch_all_group_at_the_end_is_the_include_as_a_prefix() -> None:
    translation = translate([route("admin/", endpoint=False), regex(r"(?P<url>.*)$")])

    assert (translation.kind, translation.pattern, translation.exactness) == (
        "prefix",
        "/admin/",
        "exact",
    )


def test_a_custom_converter_with_a_known_regex_is_approximated() -> None:
    translation = translate([route("shop/<key:item>/", item=KEY)])

    assert (translation.pattern, translation.exactness) == ("/shop/<int:item>/", "approximated")
    assert "shop.converters.KeyConverter read as <int>" in translation.notes[0]


def test_a_custom_converter_with_another_regex_widens_to_the_literal_before_it() -> None:
    translation = translate([route("colors/<hex:c>/", c=HEX)])

    assert (translation.kind, translation.pattern, translation.exactness) == (
        "prefix",
        "/colors/",
        "widened",
    )


def test_an_optional_group_widens_back_to_the_last_slash() -> None:
    translation = translate([regex(r"^pages/page(?:-(?P<n>[0-9]+))?/$")])

    assert (translation.kind, translation.pattern) == ("prefix", "/pages/")
    assert (
        "optional or repeated group" in translation.notes[-1]
        or "a group other" in (translation.notes[-1])
    )


def test_an_optional_character_widens() -> None:
    assert translate([regex(r"^blog/posts?/$")]).pattern == "/blog/"


def test_an_unanchored_regex_at_the_root_is_left_to_the_legacy_route() -> None:
    translation = translate([regex(r"legacy-(?P<code>[0-9]+)/")])

    assert (translation.kind, translation.pattern, translation.exactness) == (
        "legacy",
        None,
        "legacy",
    )


def test_a_parameter_name_used_at_two_levels_is_made_unique() -> None:
    translation = translate(
        [route("<int:id>/", endpoint=False, id=INT), route("items/<int:id>/", id=INT)]
    )

    assert translation.pattern == "/<int:id>/items/<int:id_2>/"
