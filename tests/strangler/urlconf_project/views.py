"""One trivial view per pattern: the tests tell patterns apart by the view Django resolves."""

from django.http import HttpRequest, HttpResponse


def _view(name: str):  # type: ignore[no-untyped-def]
    def view(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        return HttpResponse(name)

    view.__name__ = view.__qualname__ = name
    return view


home = _view("home")
article_list = _view("article_list")
article_detail = _view("article_detail")
article_new = _view("article_new")
article_by_slug = _view("article_by_slug")
archive_year = _view("archive_year")
archive_page = _view("archive_page")
ticket = _view("ticket")
hex_color = _view("hex_color")
report = _view("report")
anywhere = _view("anywhere")
file_view = _view("file_view")
shop_item = _view("shop_item")
