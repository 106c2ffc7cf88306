"""Page numbers, as the monolith pages: same size, same ``page``/``page_size`` links."""

from rest_framework.pagination import PageNumberPagination

__all__ = ["StandardPagination"]


class StandardPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    # The monolith's cap (100 rows serialise in ~10 ms there); a different cap would be a
    # visible difference in the contract.
    max_page_size = 100
