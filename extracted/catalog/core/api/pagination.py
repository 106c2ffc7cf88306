"""Page numbers, as the monolith pages: same size, same ``page``/``page_size`` links."""

from strangler.servicekit.pagination import StrictPageNumberPagination

__all__ = ["StandardPagination"]


class StandardPagination(StrictPageNumberPagination):
    page_size = 20
    # The monolith's cap (100 rows serialise in ~10 ms there); a different cap would be a
    # visible difference in the contract.
    max_page_size = 100
