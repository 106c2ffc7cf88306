"""Project-level views: JSON error pages for API paths, HTML ones elsewhere."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from strangler.servicekit.api_errors import error_body, server_error_body

__all__ = ["page_not_found", "server_error"]


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            error_body("not_found", f"No API endpoint at {request.path}; see /api/schema/."),
            status=404,
        )
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(server_error_body(), status=500)
    return render(request, "500.html", status=500)
