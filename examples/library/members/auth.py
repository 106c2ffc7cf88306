"""The library's own auth scheme: ``Authorization: ApiKey <key>``.

One scheme, three places: the DRF authentication class for the API, a Django authentication
backend (``authenticate(request, api_key=...)``) and a middleware that uses it so the HTML
views honour the header too. A request that names the scheme with a bad key is refused with
401 and ``WWW-Authenticate: ApiKey``, never served as an anonymous one.
"""

import json

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.backends import BaseBackend
from django.http import HttpResponse
from rest_framework import authentication, exceptions

from members.models import ApiKey

SCHEME = "ApiKey"
CHALLENGE = f'{SCHEME} realm="library"'
MALFORMED = "Malformed ApiKey header: send 'Authorization: ApiKey <key>'."
REFUSED = "Invalid or revoked API key."


class BadKey(Exception):
    pass


def key_from_header(value: str) -> str | None:
    """The key an ``Authorization`` header carries; None for another scheme or none."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != SCHEME.lower():
        return None
    key = rest.strip()
    if not key or " " in key:
        raise BadKey(MALFORMED)
    return key


class ApiKeyBackend(BaseBackend):
    def authenticate(self, request, api_key=None, **kwargs):
        if api_key is None:
            return None
        member = ApiKey.member_for(api_key)
        return member.user if member is not None else None

    def get_user(self, user_id):
        return get_user_model().objects.filter(pk=user_id, is_active=True).first()


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        try:
            key = key_from_header(request.META.get("HTTP_AUTHORIZATION", ""))
        except BadKey as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from None
        if key is None:
            return None
        member = ApiKey.member_for(key)
        if member is None:
            raise exceptions.AuthenticationFailed(REFUSED)
        return (member.user, key)

    def authenticate_header(self, request):
        return CHALLENGE


def _refusal(reason: str) -> HttpResponse:
    # The body the API's own refusal has (DRF's), whichever of the two answers.
    response = HttpResponse(
        json.dumps({"detail": reason}), status=401, content_type="application/json"
    )
    response["WWW-Authenticate"] = CHALLENGE
    return response


class ApiKeyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            key = key_from_header(request.META.get("HTTP_AUTHORIZATION", ""))
        except BadKey as exc:
            return _refusal(str(exc))
        if key is not None:
            user = authenticate(request, api_key=key)
            if user is None:
                return _refusal(REFUSED)
            request.user = user
            # A header a browser never sends on its own: no cross-site forgery to guard against.
            request._dont_enforce_csrf_checks = True
        return self.get_response(request)
