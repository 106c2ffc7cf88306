"""Inventory API: staff read and set a product's units on hand."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from monolith.catalog.models import Product
from monolith.inventory.api.serializers import StockLevelSerializer, StockLevelWriteSerializer
from monolith.inventory.selectors import stock_level_get
from monolith.inventory.services import stock_level_set

__all__ = ["StockLevelView"]

_READ_RESPONSES = {
    200: StockLevelSerializer,
    401: OpenApiResponse(description="Not logged in (`not_authenticated`)."),
    403: OpenApiResponse(description="Staff only (`permission_denied`)."),
    404: OpenApiResponse(description="No product with this id (`not_found`)."),
}
_WRITE_RESPONSES = {
    **_READ_RESPONSES,
    400: OpenApiResponse(description="Invalid fields (`validation_error`, see `fields`)."),
    409: OpenApiResponse(
        description="`on_hand` below the units reserved by open orders (`stock_below_reserved`)."
    ),
}


class StockLevelView(APIView):
    """The stock level of one product (active or not), for staff only."""

    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        summary="Get a product's stock level (staff)",
        responses=_READ_RESPONSES,
    )
    def get(self, request: Request, product_id: int) -> Response:
        return Response(StockLevelSerializer(stock_level_get(product_id=product_id)).data)

    @extend_schema(
        summary="Set a product's units on hand (staff)",
        request=StockLevelWriteSerializer,
        responses=_WRITE_RESPONSES,
    )
    def put(self, request: Request, product_id: int) -> Response:
        return self._set(request, product_id)

    @extend_schema(
        summary="Set a product's units on hand (staff)",
        description="Same as PUT: `on_hand` is the only field and is required.",
        request=StockLevelWriteSerializer,
        responses=_WRITE_RESPONSES,
    )
    def patch(self, request: Request, product_id: int) -> Response:
        return self._set(request, product_id)

    def _set(self, request: Request, product_id: int) -> Response:
        product = get_object_or_404(Product, pk=product_id)
        serializer = StockLevelWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        level = stock_level_set(product=product, on_hand=serializer.validated_data["on_hand"])
        return Response(StockLevelSerializer(level).data)
