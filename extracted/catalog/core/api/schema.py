"""How the OpenAPI schema describes the service's authentication: as the monolith's.

Clients never talk to the service directly: they send the proxy the monolith's token or
session cookie, and the proxy turns it into a signed ``X-Strangler-Identity``. The public
contract is therefore the monolith's two schemes (either one), and the schema says so, so
that the monolith's and the service's catalog paths describe one and the same API.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

__all__ = ["ProxyIdentityScheme"]


# drf-spectacular's extension base registers subclasses in an untyped __init_subclass__.
class ProxyIdentityScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "extracted.catalog.core.api.authentication.ProxyIdentityAuthentication"
    name = ["tokenAuth", "cookieAuth"]

    def get_security_requirement(self, auto_schema: AutoSchema) -> list[dict[str, list[Any]]]:
        # Either scheme alone authenticates (OR), as in the monolith's schema.
        return [{"tokenAuth": []}, {"cookieAuth": []}]

    def get_security_definition(self, auto_schema: AutoSchema) -> list[dict[str, Any]]:
        return [
            {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": 'Token-based authentication with required prefix "Token"',
            },
            {"type": "apiKey", "in": "cookie", "name": "sessionid"},
        ]
