"""The test project's root URLconf."""

from django.urls import URLPattern, URLResolver, include, path, re_path, register_converter

from tests.strangler.urlconf_project import views


class HexColorConverter:
    """A custom converter whose regex none of the proxy's converters has."""

    regex = "[0-9a-f]{6}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class ShopKeyConverter:
    """A custom converter with int's regex that refuses zero."""

    regex = "[0-9]+"

    def to_python(self, value: str) -> int:
        if int(value) == 0:
            raise ValueError("no item 0")
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(HexColorConverter, "hex")
register_converter(ShopKeyConverter, "shopkey")

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("blog/", include("tests.strangler.urlconf_project.blog_urls", namespace="blog")),
    path("tickets/<uuid:ticket_id>/", views.ticket, name="ticket"),
    path("colors/<hex:color>/", views.hex_color, name="color"),
    path("shop/<shopkey:item>/", views.shop_item, name="shop-item"),
    re_path(r"^reports/(?P<name>[-a-zA-Z0-9_]+)\.csv$", views.report, name="report"),
    re_path(r"^files/(?P<path>.+)$", views.file_view, name="file"),
    # Unanchored: Django searches for it anywhere in the path.
    re_path(r"legacy-(?P<code>[0-9]+)/", views.anywhere, name="anywhere"),
]
