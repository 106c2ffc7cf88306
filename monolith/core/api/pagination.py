from strangler.servicekit.pagination import StrictPageNumberPagination

__all__ = ["StandardPagination"]


class StandardPagination(StrictPageNumberPagination):
    page_size = 20
    # 100 rows of a product list serialise in ~10 ms; more invites scraping the catalog
    # through one request.
    max_page_size = 100
