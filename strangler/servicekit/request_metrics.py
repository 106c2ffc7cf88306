"""A Django project's own request metrics (django-prometheus), readable by Prometheus only.

The monolith is the proxy's catch-all upstream: a ``/metrics`` URL on it would be public
through the proxy. The figures are served at ``/internal/metrics`` instead (the proxy never
forwards ``/internal/``: its ``internal_prefixes``) and, in case a path reaches the project
another way, only to a caller with the bearer token ``settings.STRANGLER_METRICS_TOKEN``, the
token Prometheus already holds for the sync's figures (``STRANGLER_SYNC_METRICS_TOKEN``).
Unset, the endpoint answers 401 to everyone: no default token opens it outside demo mode.

A project wires it in three lines::

    INSTALLED_APPS += [METRICS_APP]
    MIDDLEWARE = with_request_metrics(MIDDLEWARE)
    urlpatterns += [path("internal/", include("strangler.servicekit.metrics_urls"))]

Under gunicorn each worker counts its own requests; ``strangler.servicekit.gunicorn_conf``
sets ``PROMETHEUS_MULTIPROC_DIR`` so that one scrape, answered by any worker, sums them all.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_prometheus.exports import ExportToDjangoView

__all__ = ["METRICS_APP", "TOKEN_SETTING", "metrics_view", "with_request_metrics"]

METRICS_APP = "django_prometheus"
TOKEN_SETTING = "STRANGLER_METRICS_TOKEN"  # noqa: S105 (a setting's name)
# django-prometheus' two halves: the first starts the clock before any other middleware runs,
# the last sees the response every other one made (its documentation's order).
_BEFORE = "django_prometheus.middleware.PrometheusBeforeMiddleware"
_AFTER = "django_prometheus.middleware.PrometheusAfterMiddleware"


def with_request_metrics(middleware: list[str]) -> list[str]:
    """``middleware`` between django-prometheus' two halves, first and last."""
    return [_BEFORE, *(m for m in middleware if m not in (_BEFORE, _AFTER)), _AFTER]


@require_GET
@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    """The project's metrics in Prometheus' text format, for the bearer of the token."""
    token: str = getattr(settings, TOKEN_SETTING, "")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not token:
        return _refused("Metrics are off: STRANGLER_SYNC_METRICS_TOKEN is not set.", "metrics_off")
    if scheme.lower() != "bearer" or not given:
        return _refused("Send Authorization: Bearer <STRANGLER_SYNC_METRICS_TOKEN>.", "no_token")
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        return _refused("The bearer token is not this project's metrics token.", "bad_token")
    response: HttpResponse = ExportToDjangoView(request)
    return response


def _refused(message: str, code: str) -> JsonResponse:
    response = JsonResponse({"code": code, "message": message}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response
