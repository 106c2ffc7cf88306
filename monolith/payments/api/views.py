"""``/api/v1/orders/<id>/pay/`` and ``/api/v1/payments/``."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from monolith.accounts.models import User
from monolith.core.errors import StorefrontError
from monolith.payments import services
from monolith.payments.api.serializers import (
    PaymentCreateSerializer,
    PaymentSerializer,
    RefundCreateSerializer,
    RefundSerializer,
)
from monolith.payments.models import Payment
from monolith.payments.selectors import payment_get_visible, payment_list_visible

__all__ = ["OrderPayView", "PaymentDetailView", "PaymentListView", "PaymentRefundView"]

_UNAUTHENTICATED = OpenApiResponse(description="Not logged in (code `not_authenticated`).")
_NOT_FOUND = OpenApiResponse(description="No such object visible to the caller (`not_found`).")
_IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="A fresh unique value (1-255 characters, e.g. a UUID) per payment attempt. "
    "Repeating a request with the same key and body replays the first answer and charges "
    "the card at most once.",
)


def _user(request: Request) -> User:
    assert isinstance(request.user, User)  # IsAuthenticated ran first
    return request.user


class OrderPayView(APIView):
    @extend_schema(
        operation_id="order_pay",
        summary="Pay a pending order by card (idempotent)",
        parameters=[_IDEMPOTENCY_KEY],
        request=PaymentCreateSerializer,
        responses={
            201: PaymentSerializer,
            400: OpenApiResponse(
                description="`idempotency_key_required`, `idempotency_key_invalid` or "
                "`validation_error` (see `fields`)."
            ),
            401: _UNAUTHENTICATED,
            402: OpenApiResponse(description="The card was declined (`payment_declined`)."),
            404: _NOT_FOUND,
            409: OpenApiResponse(
                description="`idempotency_key_reused`, `idempotency_request_in_progress`, "
                "`order_state_conflict` or `payment_in_progress`."
            ),
            504: OpenApiResponse(
                description="The gateway did not answer (`payment_gateway_timeout`); "
                "retry with the same key."
            ),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        key = request.headers.get("Idempotency-Key", "")
        if not key:
            raise StorefrontError(
                "Send an Idempotency-Key header (e.g. a UUID) with every payment request.",
                code="idempotency_key_required",
            )
        serializer = PaymentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = services.payment_create(
            user=_user(request), order_id=pk, idempotency_key=key, **serializer.validated_data
        )
        headers = {"Idempotent-Replayed": "true"} if result.replayed else None
        return Response(result.body, status=result.status_code, headers=headers)


@extend_schema(summary="Payments: the caller's own, or all for staff; newest first")
class PaymentListView(generics.ListAPIView[Payment]):
    serializer_class = PaymentSerializer
    filter_backends = []

    def get_queryset(self) -> QuerySet[Payment]:
        return payment_list_visible(user=_user(self.request))


class PaymentDetailView(APIView):
    @extend_schema(
        operation_id="payment_retrieve",
        summary="One payment",
        responses={200: PaymentSerializer, 401: _UNAUTHENTICATED, 404: _NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> Response:
        payment = payment_get_visible(user=_user(request), payment_id=pk)
        return Response(PaymentSerializer(payment).data)


class PaymentRefundView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        operation_id="payment_refund",
        summary="Refund a payment in full (staff); an unshipped order is cancelled too",
        request=RefundCreateSerializer,
        responses={
            201: RefundSerializer,
            401: _UNAUTHENTICATED,
            403: OpenApiResponse(description="Staff only (`permission_denied`)."),
            404: _NOT_FOUND,
            409: OpenApiResponse(description="`already_refunded` or `payment_not_refundable`."),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = RefundCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = _user(request)
        refund = services.payment_refund(
            payment=payment_get_visible(user=user, payment_id=pk),
            actor=user,
            reason=serializer.validated_data["reason"],
        )
        return Response(RefundSerializer(refund).data, status=status.HTTP_201_CREATED)
