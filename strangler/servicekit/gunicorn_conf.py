"""Gunicorn settings shared by the Django services: JSON logs, access log on stdout."""

logger_class = "strangler.servicekit.gunicorn_logging.JsonGunicornLogger"
accesslog = "-"
# A worker that does not answer within 30 s is replaced; no request of ours is that slow,
# so hitting it means a stuck worker, not a slow page.
timeout = 30
graceful_timeout = 20
# Gunicorn 24+ opens a control socket at one fixed path per user; two services (or two test
# runs) on one machine would fight over it, and nothing of ours uses it.
control_socket_disable = True
