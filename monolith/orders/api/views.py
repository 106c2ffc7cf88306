"""``/api/v1/orders/``: placing orders and moving them through their states."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from monolith.accounts.models import User
from monolith.accounts.selectors import address_get_for_user
from monolith.orders import services
from monolith.orders.api.serializers import (
    OrderDetailSerializer,
    OrderPlaceSerializer,
    OrderSerializer,
)
from monolith.orders.models import Order
from monolith.orders.selectors import order_get_visible, order_list_visible

__all__ = [
    "OrderCancelView",
    "OrderDeliverView",
    "OrderDetailView",
    "OrderListView",
    "OrderShipView",
]

_UNAUTHENTICATED = OpenApiResponse(description="Not logged in (code `not_authenticated`).")
_NOT_FOUND = OpenApiResponse(description="No such order visible to the caller (`not_found`).")
_STAFF_ONLY = OpenApiResponse(description="Staff only (`permission_denied`).")
_STATE = OpenApiResponse(
    description="Not allowed from the order's status (`order_state_conflict`)."
)


def _user(request: Request) -> User:
    assert isinstance(request.user, User)  # IsAuthenticated ran first
    return request.user


def _detail(order: Order, *, user: User, status_code: int = status.HTTP_200_OK) -> Response:
    fresh = order_get_visible(user=user, order_id=order.pk)
    return Response(OrderDetailSerializer(fresh).data, status=status_code)


@extend_schema_view(
    get=extend_schema(summary="Orders: the caller's own, or all for staff; newest first"),
)
class OrderListView(generics.ListAPIView[Order]):
    serializer_class = OrderSerializer
    filter_backends = []

    def get_queryset(self) -> QuerySet[Order]:
        return order_list_visible(user=_user(self.request))

    @extend_schema(
        operation_id="order_place",
        summary="Place an order from the cart, or from the given lines",
        request=OrderPlaceSerializer,
        responses={
            201: OrderDetailSerializer,
            400: OpenApiResponse(description="Invalid fields (`validation_error`, `fields`)."),
            401: _UNAUTHENTICATED,
            409: OpenApiResponse(
                description="`out_of_stock` (details: product_id, requested, available), "
                "`cart_empty`, `product_unavailable` or `mixed_currencies`."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        user = _user(request)
        serializer = OrderPlaceSerializer(data=request.data, context={"user": user})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        address = address_get_for_user(user=user, address_id=data["shipping_address_id"])
        lines = data.get("lines")
        order = services.order_place(
            user=user,
            shipping=services.ShippingAddress.from_address(address),
            quantities=None
            if lines is None
            else {ln["product_id"]: ln["quantity"] for ln in lines},
        )
        return _detail(order, user=user, status_code=status.HTTP_201_CREATED)


class OrderDetailView(APIView):
    @extend_schema(
        operation_id="order_retrieve",
        summary="One order with its lines and status history",
        responses={200: OrderDetailSerializer, 401: _UNAUTHENTICATED, 404: _NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(
            OrderDetailSerializer(order_get_visible(user=_user(request), order_id=pk)).data
        )


class OrderCancelView(APIView):
    @extend_schema(
        operation_id="order_cancel",
        summary="Cancel a pending or paid order (owner or staff); a payment is refunded",
        request=None,
        responses={200: OrderDetailSerializer, 401: _UNAUTHENTICATED, 404: _NOT_FOUND, 409: _STATE},
    )
    def post(self, request: Request, pk: int) -> Response:
        user = _user(request)
        order = services.order_cancel(order=order_get_visible(user=user, order_id=pk), actor=user)
        return _detail(order, user=user)


class OrderShipView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        operation_id="order_ship",
        summary="Mark a paid order shipped (staff)",
        request=None,
        responses={
            200: OrderDetailSerializer,
            401: _UNAUTHENTICATED,
            403: _STAFF_ONLY,
            404: _NOT_FOUND,
            409: _STATE,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        user = _user(request)
        order = services.order_ship(order=order_get_visible(user=user, order_id=pk), actor=user)
        return _detail(order, user=user)


class OrderDeliverView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        operation_id="order_deliver",
        summary="Mark a shipped order delivered (staff)",
        request=None,
        responses={
            200: OrderDetailSerializer,
            401: _UNAUTHENTICATED,
            403: _STAFF_ONLY,
            404: _NOT_FOUND,
            409: _STATE,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        user = _user(request)
        order = services.order_deliver(order=order_get_visible(user=user, order_id=pk), actor=user)
        return _detail(order, user=user)
