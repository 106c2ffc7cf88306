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
# Trust no peer's forwarding headers. gunicorn's defaults let 127.0.0.1 (where the proxy runs)
# set SCRIPT_NAME and PATH_INFO by header: `/x/internal/...` with `SCRIPT_NAME: /x` reached
# an internal view. The services need none of it: Django reads X-Forwarded-Proto itself
# (SECURE_PROXY_SSL_HEADER) and the proxy forwards the one path it routed on.
forwarded_allow_ips = ""
forwarder_headers = ""
# Headers whose names hold "_" are dropped (gunicorn's default, kept explicit): mapped to
# WSGI variables they would read the same as their "-" twins.
header_map = "drop"
