"""The monolith's identity endpoint, as an app to install rather than a file to copy.

The proxy asks ``POST <prefix>/resolve`` who a client's session or ``Authorization``
header is, and signs the answer for the services (``strangler.identity``). Install it with::

    INSTALLED_APPS += ["strangler.contrib.identity"]
    urlpatterns += [path("internal/identity/", include("strangler.contrib.identity.urls"))]
    STRANGLER_IDENTITY_SECRET = ...  # shared with the proxy and the services
    STRANGLER_IDENTITY = {           # optional; these are the defaults
        "resolvers": [
            "strangler.contrib.identity.resolvers.drf_token",  # only with rest_framework.authtoken
            "strangler.contrib.identity.resolvers.session",    # only with django.contrib.sessions
        ],
        "claims": [],  # "permissions" and/or "groups": what services may check
    }

A resolver turns the forwarded credentials into a user (``resolvers``); a team adds its own
for Bearer tokens or any scheme of its own. Nothing is imported that the project does not
have: DRF's token model only when ``rest_framework.authtoken`` is installed.
"""
