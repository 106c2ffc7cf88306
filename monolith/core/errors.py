"""The storefront's error tree. Services raise these; the API and HTML edges render them.

StorefrontError                 400  storefront_error   (a servicekit ServiceError)
├── NotFound                    404  not_found
├── Conflict                    409  conflict
│   ├── OutOfStock              409  out_of_stock
│   ├── OrderStateConflict      409  order_state_conflict
│   └── IdempotencyConflict     409  idempotency_key_reused / idempotency_request_in_progress
├── PaymentDeclined             402  payment_declined
└── PaymentGatewayTimeout       504  payment_gateway_timeout
"""

from __future__ import annotations

from strangler.servicekit.api_errors import ServiceError

__all__ = [
    "Conflict",
    "IdempotencyConflict",
    "NotFound",
    "OrderStateConflict",
    "OutOfStock",
    "PaymentDeclined",
    "PaymentGatewayTimeout",
    "StorefrontError",
]


class StorefrontError(ServiceError):
    default_code = "storefront_error"


class NotFound(StorefrontError):
    http_status = 404
    default_code = "not_found"


class Conflict(StorefrontError):
    http_status = 409
    default_code = "conflict"


class OutOfStock(Conflict):
    default_code = "out_of_stock"


class OrderStateConflict(Conflict):
    default_code = "order_state_conflict"


class IdempotencyConflict(Conflict):
    default_code = "idempotency_key_reused"


class PaymentDeclined(StorefrontError):
    http_status = 402
    default_code = "payment_declined"


class PaymentGatewayTimeout(StorefrontError):
    http_status = 504
    default_code = "payment_gateway_timeout"
