"""Include under the path the proxy asks (``strangler.proxy.identity.RESOLVE_PATH``)::

path("internal/identity/", include("strangler.contrib.identity.urls"))
"""

from __future__ import annotations

from django.urls import path

from strangler.contrib.identity.views import identity_resolve

app_name = "strangler_identity"
urlpatterns = [path("resolve", identity_resolve, name="resolve")]
