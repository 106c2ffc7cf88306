"""The OpenAPI schema a service publishes says every status it answers and who may call.

drf-spectacular documents the success status and whatever a view declares; the error
statuses DRF itself answers were left to each view to remember, and most forgot, so a
client (and schemathesis) met statuses the schema never mentioned. ``ServiceAutoSchema``
adds, to every operation that lacks them, the errors that follow from the operation's own
shape:

- 400 ``validation_error`` where there is a body or a query parameter to validate;
- 415 ``unsupported_media_type`` where there is a body: the services parse JSON only;
- 401 where credentials are required, or optional but refused when invalid (an
  authentication class with ``anonymous_when_invalid = True`` ignores an invalid one);
- 404 ``not_found`` where a path parameter names a row, or a page number can be past the end.

A serializer with ``whole_on_patch = True`` (its view requires every field on PATCH too)
keeps its required fields in the PATCH body. It also marks reads that anonymous callers
may make: a permission class with
``anonymous_reads = True`` (reads for everyone, writes for some) makes authentication
optional (``{}``) on its safe methods, as drf-spectacular already does for ``AllowAny``.
A view's own description of a status always wins over these.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ComponentRegistry
from rest_framework.permissions import SAFE_METHODS

__all__ = ["ServiceAutoSchema"]

# A page number that names no page is a 404 (below), not a 400.
_PAGE_PARAMETER = "page"

_INVALID = "Invalid input (`validation_error`; `fields` names each field and what to fix)."
_UNAUTHENTICATED = (
    "No credentials, or credentials that are not valid (`not_authenticated`, "
    "`authentication_failed`)."
)
_NOT_JSON = "A body that is not JSON (`unsupported_media_type`)."
_NOT_FOUND = "Nothing with this key visible to you (`not_found`)."
_NO_PAGE = "A page past the last one, or not a page number (`not_found`)."


class ServiceAutoSchema(AutoSchema):
    """drf-spectacular's ``AutoSchema`` with the statuses DRF answers on every service."""

    def get_auth(self) -> list[dict[str, list[Any]]]:
        requirements: list[dict[str, list[Any]]] = super().get_auth()
        if (
            self.method in SAFE_METHODS
            and {} not in requirements
            and any(getattr(p, "anonymous_reads", False) for p in self.view.get_permissions())
        ):
            requirements.append({})
        return requirements

    def get_operation(
        self,
        path: str,
        path_regex: str,
        path_prefix: str,
        method: str,
        registry: ComponentRegistry,
    ) -> dict[str, Any] | None:
        operation: dict[str, Any] | None = super().get_operation(
            path, path_regex, path_prefix, method, registry
        )
        if operation is None:
            return None
        parameters = operation.get("parameters", [])
        responses: dict[str, Any] = operation["responses"]
        if "requestBody" in operation or any(
            p["in"] == "query" and p["name"] != _PAGE_PARAMETER for p in parameters
        ):
            responses.setdefault("400", {"description": _INVALID})
        if "requestBody" in operation:
            responses.setdefault("415", {"description": _NOT_JSON})
        security = operation.get("security", [])
        if any(security) and ({} not in security or self._rejects_invalid_credentials()):
            responses.setdefault("401", {"description": _UNAUTHENTICATED})
        if any(p["in"] == "path" for p in parameters):
            responses.setdefault("404", {"description": _NOT_FOUND})
        elif any(p["in"] == "query" and p["name"] == _PAGE_PARAMETER for p in parameters):
            responses.setdefault("404", {"description": _NO_PAGE})
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _get_request_for_media_type(self, serializer: Any, direction: Any = "request") -> Any:
        # drf-spectacular makes every PATCH body partial, as DRF's generic views do; a view
        # that validates its serializer whole on PATCH says so with `whole_on_patch = True`.
        if self.method == "PATCH" and getattr(serializer, "whole_on_patch", False):
            self.method = "PUT"
            try:
                return super()._get_request_for_media_type(  # type: ignore[no-untyped-call]
                    serializer, direction
                )
            finally:
                self.method = "PATCH"
        return super()._get_request_for_media_type(  # type: ignore[no-untyped-call]
            serializer, direction
        )

    def _rejects_invalid_credentials(self) -> bool:
        # Where credentials are optional, only a bad one is refused, and only by authentication
        # that refuses rather than ignores it (DRF's token does; the proxy's identity does not).
        return any(
            not getattr(authenticator, "anonymous_when_invalid", False)
            for authenticator in self.view.get_authenticators()
        )
