"""The order pages: checkout, the order with its Pay and Cancel forms, and the history."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from monolith.accounts.models import User
from monolith.cart.selectors import cart_get
from monolith.core.errors import NotFound, StorefrontError
from monolith.orders import services
from monolith.orders.forms import CheckoutForm, PayForm
from monolith.orders.models import Order
from monolith.orders.selectors import order_get_visible, order_list_owned
from monolith.payments.services import payment_create

__all__ = ["order_cancel", "order_checkout", "order_detail", "order_history", "order_pay"]

# A customer with more orders than this pages through them; 20 rows render in a blink.
HISTORY_PAGE_SIZE = 20


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # login_required ran first
    return request.user


def _visible_order(user: User, pk: int) -> Order:
    try:
        return order_get_visible(user=user, order_id=pk)
    except NotFound as missing:
        raise Http404(missing.message) from missing


@login_required
@require_GET
def order_history(request: HttpRequest) -> HttpResponse:
    page = Paginator(order_list_owned(user=_user(request)), HISTORY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "orders/history.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def order_checkout(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    cart = cart_get(user=user)
    if cart.is_empty:
        messages.info(request, "Your cart is empty; add products before checking out.")
        return redirect("cart:detail")
    # An empty POST is still a submission, so it is not `request.POST or None`.
    form = CheckoutForm(request.POST if request.method == "POST" else None, user=user)
    if form.is_bound and form.is_valid():
        try:
            order = services.order_place(user=user, shipping=form.shipping_address())
        except StorefrontError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Order {order.number} placed. Please pay to confirm it.")
            return redirect("orders:detail", pk=order.pk)
    return render(request, "orders/checkout.html", {"cart": cart, "form": form})


@login_required
@require_GET
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    order = _visible_order(user, pk)
    return render(
        request,
        "orders/detail.html",
        {
            "order": order,
            "pay_form": PayForm(),
            "can_pay": order.user_id == user.pk and order.status == Order.Status.PENDING,
            "can_cancel": order.status in (Order.Status.PENDING, Order.Status.PAID),
        },
    )


@login_required
@require_POST
def order_pay(request: HttpRequest, pk: int) -> HttpResponse:
    form = PayForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(e) for e in errors))
        return redirect("orders:detail", pk=pk)
    try:
        result = payment_create(
            user=_user(request),
            order_id=pk,
            idempotency_key=form.cleaned_data["idempotency_key"],
            card_number=form.cleaned_data["card_number"],
            cardholder_name=form.cleaned_data["cardholder_name"],
        )
    except NotFound as missing:
        raise Http404(missing.message) from missing
    except StorefrontError as error:
        messages.error(request, error.message)
    else:
        if result.status_code < 300:
            messages.success(request, "Payment received, thank you.")
        else:
            messages.error(request, str(result.body.get("message", "The payment failed.")))
    return redirect("orders:detail", pk=pk)


@login_required
@require_POST
def order_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    order = _visible_order(user, pk)
    try:
        services.order_cancel(order=order, actor=user)
    except StorefrontError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Order {order.number} cancelled.")
    return redirect("orders:detail", pk=pk)
