"""The monolith's settings without django-prometheus' middleware: the baseline of
bench_request_metrics.py (DJANGO_SETTINGS_MODULE=bench.settings_without_request_metrics)."""

from monolith.settings import *  # noqa: F403
from monolith.settings import MIDDLEWARE

MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("django_prometheus.")]
