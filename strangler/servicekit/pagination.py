"""Page-number pagination that reads ``page`` and ``page_size`` as the schema's integers.

DRF's ``PageNumberPagination`` silently serves the default size for ``page_size=ten`` or
``page_size=0``: the client never learns its parameter was wrong, and the schema's
``integer`` is not what the service enforces. Here such a value is a 400
``validation_error`` naming ``page_size``; a size above ``max_page_size`` still counts as the
maximum (documented, and relied on by clients that ask for "everything").

``page`` is ASCII digits too: Django's paginator reads it with ``int()``, which also takes
``+2``, `` 2``, ``2_0`` and other scripts' digits, and DRF serves the last page for
``page=last``; none of them is an integer in the schema. Any other value is the 404 that a
page past the end already is (``Invalid page.``).
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.views import APIView

__all__ = ["StandardPagination", "StrictPageNumberPagination"]

_MAX_DIGITS = 18
_NOT_A_SIZE = "Use a whole number of 1 or more (above the maximum counts as the maximum)."


def _ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


class StrictPageNumberPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    last_page_strings = ()

    def get_page_number(self, request: Request, paginator: Paginator[Any]) -> int | str:
        text = request.query_params.get(self.page_query_param)
        if not text:  # absent or empty: the first page
            return 1
        if not _ascii_digits(text):
            # As DRF words the 404 of a page Django's paginator cannot read.
            raise NotFound(
                self.invalid_page_message.format(
                    page_number=text, message="That page number is not an integer"
                )
            )
        return text

    def get_page_size(self, request: Request) -> int | None:
        text = request.query_params.get(self.page_size_query_param or "")
        if not text:  # absent or empty: no preference, as an empty filter is no filter
            return self.page_size
        # ASCII digits only: int() would also take " 5", "+5", "5_0" and other scripts' digits.
        digits = text.lstrip("0") if _ascii_digits(text) else ""
        if not digits:
            raise ValidationError({self.page_size_query_param: [_NOT_A_SIZE]})
        # More digits than any page size: past Python's int() digit limit, never converted.
        size = int(digits) if len(digits) <= _MAX_DIGITS else None
        if self.max_page_size and (size is None or size > self.max_page_size):
            return self.max_page_size
        return size if size is not None else self.page_size

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param and self.max_page_size:
                parameter["description"] = (
                    f"Number of results to return per page; above {self.max_page_size} "
                    f"counts as {self.max_page_size}."
                )
        return parameters


class StandardPagination(StrictPageNumberPagination):
    """The pages every side of a migration serves: one class, so the monolith and each
    extracted service page a route alike (a different size or cap would be a visible
    difference in the contract)."""

    page_size = 20
    # 100 rows of a product list serialise in ~10 ms in the monolith; more invites scraping
    # the catalog through one request.
    max_page_size = 100
