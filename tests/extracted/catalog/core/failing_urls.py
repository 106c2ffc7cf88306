"""The service's routes plus one that fails, to see the 500 handler answer."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from extracted.catalog.urls import handler404, handler500, urlpatterns

__all__ = ["handler404", "handler500", "urlpatterns"]


class DeliberateFailure(Exception):
    """Raised by the failing view; nothing catches it but Django's 500 handling."""


def _fail(request: HttpRequest) -> HttpResponse:
    raise DeliberateFailure("the test asked for a failure")


urlpatterns = [*urlpatterns, path("api/v1/fail/", _fail)]
