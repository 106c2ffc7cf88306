from rest_framework.pagination import PageNumberPagination

__all__ = ["StandardPagination"]


class StandardPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    # 100 rows of a product list serialise in ~10 ms; more invites scraping the catalog
    # through one request.
    max_page_size = 100
