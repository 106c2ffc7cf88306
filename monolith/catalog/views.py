"""Storefront pages: the product list with its filters, and one product."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, render

from monolith.catalog.filters import ProductFilter
from monolith.catalog.selectors import category_path, category_tree, product_list_visible

__all__ = ["PRODUCTS_PER_PAGE", "product_detail", "product_list"]

# Four rows of the card grid at desktop width.
PRODUCTS_PER_PAGE = 24

_SORT_CHOICES = [
    ("name", "Name"),
    ("price", "Price: low to high"),
    ("-price", "Price: high to low"),
    ("-created_at", "Newest"),
]
# The page's parameter names, mapped to the shared filter's; `q` is the header search box.
_PAGE_TO_FILTER = {
    "q": "search",
    "category": "category",
    "min_price": "min_price",
    "max_price": "max_price",
    "in_stock": "in_stock",
    "ordering": "ordering",
}


def _filter_data(query: QueryDict) -> dict[str, str]:
    data = {name: query.get(param) for param, name in _PAGE_TO_FILTER.items()}
    return {name: value for name, value in data.items() if isinstance(value, str) and value}


def product_list(request: HttpRequest) -> HttpResponse:
    """Active products, filtered; a filter value that cannot be read is shown and ignored."""
    filters = ProductFilter(data=_filter_data(request.GET), queryset=product_list_visible())
    page = Paginator(filters.qs, PRODUCTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page_obj": page,
        "filter_errors": filters.errors,
        "current_category": filters.form.cleaned_data.get("category"),
        "category_tree": category_tree(),
        "sort_choices": _SORT_CHOICES,
    }
    return render(request, "catalog/product_list.html", context)


def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    product = get_object_or_404(product_list_visible(), slug=slug)
    breadcrumb = category_path(category=product.category) if product.category else []
    return render(
        request, "catalog/product_detail.html", {"product": product, "breadcrumb": breadcrumb}
    )
