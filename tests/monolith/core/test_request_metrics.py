"""The monolith's request metrics (django-prometheus) at ``/internal/metrics``: the cases every
project shares (tests/request_metrics_cases.py), under this project's settings."""

from tests.request_metrics_cases import (
    test_anyone_else_is_refused_and_told_what_to_send,
    test_the_bearer_of_the_token_reads_each_views_requests,
    test_the_metrics_middleware_wraps_every_other_one,
    test_without_a_token_configured_no_one_reads_them,
)

__all__ = [
    "test_anyone_else_is_refused_and_told_what_to_send",
    "test_the_bearer_of_the_token_reads_each_views_requests",
    "test_the_metrics_middleware_wraps_every_other_one",
    "test_without_a_token_configured_no_one_reads_them",
]
