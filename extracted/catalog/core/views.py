"""Project-level error pages: JSON everywhere, since the service serves no HTML pages.

Under ``/api/`` the bodies are the monolith's word for word.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse

from strangler.servicekit.api_errors import error_body, server_error_body

__all__ = ["page_not_found", "server_error"]


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    where = "API endpoint" if request.path.startswith("/api/") else "page"
    return JsonResponse(
        error_body("not_found", f"No {where} at {request.path}; see /api/schema/."), status=404
    )


def server_error(request: HttpRequest) -> HttpResponse:
    return JsonResponse(server_error_body(), status=500)
