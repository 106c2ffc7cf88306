"""``/api/v1/cart/``: the caller's own cart. Views parse, call one service, render."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from monolith.accounts.models import User
from monolith.cart import services
from monolith.cart.api.serializers import (
    CartLineAddSerializer,
    CartLineUpdateSerializer,
    CartSerializer,
)
from monolith.cart.selectors import cart_get

__all__ = ["CartLineDetailView", "CartLineListView", "CartView"]

_UNAUTHENTICATED = OpenApiResponse(description="Not logged in (code `not_authenticated`).")
_INVALID = OpenApiResponse(description="Invalid fields (code `validation_error`, see `fields`).")
_NO_LINE = OpenApiResponse(description="No such line in the caller's cart (code `not_found`).")


def _user(request: Request) -> User:
    assert isinstance(request.user, User)  # IsAuthenticated ran first
    return request.user


def _cart_response(user: User, *, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(CartSerializer(cart_get(user=user)).data, status=status_code)


class CartView(APIView):
    @extend_schema(
        operation_id="cart_retrieve",
        summary="The caller's cart",
        responses={200: CartSerializer, 401: _UNAUTHENTICATED},
    )
    def get(self, request: Request) -> Response:
        return _cart_response(_user(request))

    @extend_schema(
        operation_id="cart_clear",
        summary="Empty the cart",
        responses={204: None, 401: _UNAUTHENTICATED},
    )
    def delete(self, request: Request) -> Response:
        services.cart_clear(user=_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CartLineListView(APIView):
    @extend_schema(
        operation_id="cart_line_add",
        summary="Add a product (adds to its line if already in the cart)",
        request=CartLineAddSerializer,
        responses={
            201: CartSerializer,
            400: _INVALID,
            401: _UNAUTHENTICATED,
            409: OpenApiResponse(description="Another currency in the cart (`currency_mismatch`)."),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = CartLineAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = _user(request)
        services.cart_line_add(user=user, **serializer.validated_data)
        return _cart_response(user, status_code=status.HTTP_201_CREATED)


class CartLineDetailView(APIView):
    @extend_schema(
        operation_id="cart_line_update",
        summary="Set the quantity of a line",
        request=CartLineUpdateSerializer,
        responses={200: CartSerializer, 400: _INVALID, 401: _UNAUTHENTICATED, 404: _NO_LINE},
    )
    def patch(self, request: Request, pk: int) -> Response:
        serializer = CartLineUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = _user(request)
        services.cart_line_update(
            user=user, line_id=pk, quantity=serializer.validated_data["quantity"]
        )
        return _cart_response(user)

    @extend_schema(
        operation_id="cart_line_remove",
        summary="Remove a line",
        responses={204: None, 401: _UNAUTHENTICATED, 404: _NO_LINE},
    )
    def delete(self, request: Request, pk: int) -> Response:
        services.cart_line_remove(user=_user(request), line_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
