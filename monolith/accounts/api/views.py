"""Accounts API: registration, tokens, the caller's profile and address book.

Every endpoint acts on the caller only; there is no way to name another user, and another
user's address id answers 404 `not_found`, the same as an id that does not exist.
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from monolith.accounts.api.serializers import (
    AddressSerializer,
    ProfileSerializer,
    RegistrationSerializer,
    TokenObtainSerializer,
)
from monolith.accounts.models import Address, User
from monolith.accounts.selectors import address_get_for_user, address_list_for_user
from monolith.accounts.services import (
    address_create,
    address_delete,
    address_update,
    token_issue,
    token_revoke,
    user_profile_update,
    user_register,
)

__all__ = [
    "AddressDetailView",
    "AddressListView",
    "LogoutView",
    "ProfileView",
    "RegisterView",
    "TokenObtainView",
]


def _caller(request: Request) -> User:
    user = request.user
    if not isinstance(user, User):  # only reachable if a view forgets IsAuthenticated
        raise exceptions.NotAuthenticated()
    return user


class RegisterView(APIView):
    """Create an account and answer with its API token, so the client is logged in at once.

    400 `validation_error` names the field: `username` or `email` already taken (case
    ignored), or `password` rejected by the password validators.
    """

    # No authentication: a stale token in the client must not turn a sign-up into a 401.
    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(
        request=RegistrationSerializer,
        responses={201: RegistrationSerializer, 400: OpenApiResponse(description="Invalid fields")},
    )
    def post(self, request: Request) -> Response:
        serializer = RegistrationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_register(**serializer.validated_data)
        token_issue(user=user)
        return Response(RegistrationSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenObtainView(APIView):
    """Exchange a username and password for the user's API token (the same one until logout).

    Wrong credentials, like an unknown or deactivated user, answer 400 `validation_error`
    with the reason in `fields.non_field_errors`, not 401: nothing was authenticated yet.
    """

    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(
        request=TokenObtainSerializer,
        responses={
            200: TokenObtainSerializer,
            400: OpenApiResponse(description="Missing fields or wrong credentials"),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = TokenObtainSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token = token_issue(user=serializer.validated_data["user"])
        return Response(TokenObtainSerializer({"token": token.key}).data)


class LogoutView(APIView):
    """Delete the caller's API token; requests with it answer 401 afterwards."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        token_revoke(user=_caller(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProfileView(generics.GenericAPIView[User]):
    """The caller's profile; `username`, `is_staff` and `date_joined` are read-only."""

    serializer_class = ProfileSerializer

    def get(self, request: Request) -> Response:
        return Response(ProfileSerializer(_caller(request)).data)

    def patch(self, request: Request) -> Response:
        user = _caller(request)
        serializer = ProfileSerializer(user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = user_profile_update(user=user, **serializer.validated_data)
        return Response(ProfileSerializer(user).data)


class AddressListView(generics.ListCreateAPIView[Address]):
    """The caller's addresses, default first. The first one added becomes the default."""

    serializer_class = AddressSerializer
    filter_backends = ()  # a handful of rows per user: nothing worth searching or sorting

    def get_queryset(self) -> QuerySet[Address]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return Address.objects.none()
        return address_list_for_user(user=_caller(self.request))

    def perform_create(self, serializer: BaseSerializer[Address]) -> None:
        serializer.instance = address_create(
            user=_caller(self.request), **serializer.validated_data
        )


class AddressDetailView(generics.RetrieveUpdateDestroyAPIView[Address]):
    """One of the caller's addresses.

    `is_default: true` moves the default here; `is_default: false` on the default address
    answers 400 `default_address_required`. Deleting the default promotes the oldest other.
    """

    serializer_class = AddressSerializer
    queryset = Address.objects.none()  # lookups go through get_object, scoped to the caller

    def get_object(self) -> Address:
        address = address_get_for_user(
            user=_caller(self.request), address_id=int(self.kwargs["pk"])
        )
        self.check_object_permissions(self.request, address)
        return address

    def perform_update(self, serializer: BaseSerializer[Address]) -> None:
        address = serializer.instance
        assert address is not None  # set by get_object
        serializer.instance = address_update(address=address, **serializer.validated_data)

    def perform_destroy(self, instance: Address) -> None:
        address_delete(address=instance)
