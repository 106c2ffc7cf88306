"""How the OpenAPI schema describes the service's authentication: the proxy's signed identity.

The service reads no token and no session cookie: it trusts only the ``X-Strangler-Identity``
header the proxy signs after resolving the client's monolith credentials (and strips from
anything a client sends). The service's own schema says so, so that a client or a fuzzer
pointed at it is not told to send credentials it ignores. The public contract, the
monolith's token and cookie, is the monolith's schema; the contract test checks that the
two schemas require credentials on the same operations.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

from strangler.identity import IDENTITY_HEADER

__all__ = ["IDENTITY_SCHEME", "ProxyIdentityScheme"]

IDENTITY_SCHEME = "proxyIdentity"


# drf-spectacular's extension base registers subclasses in an untyped __init_subclass__.
class ProxyIdentityScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "extracted.catalog.core.api.authentication.ProxyIdentityAuthentication"
    name = IDENTITY_SCHEME

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": IDENTITY_HEADER,
            "description": "The caller as the strangler proxy vouches for it: signed with the "
            "shared identity secret, valid for a minute. Clients never send it; they send the "
            "proxy the monolith's token or session cookie. An invalid or expired value makes "
            "the request anonymous.",
        }
