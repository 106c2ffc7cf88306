"""The cart pages: plain HTML forms, each POST redirecting back to the cart."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from monolith.accounts.models import User
from monolith.cart import services
from monolith.cart.forms import CartAddForm, CartLineQuantityForm
from monolith.cart.selectors import cart_get
from monolith.core.errors import StorefrontError

__all__ = ["cart_add", "cart_detail", "cart_line_remove", "cart_line_update"]


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # login_required ran first
    return request.user


def _form_error(form: CartAddForm | CartLineQuantityForm) -> str:
    return "; ".join(
        f"{field}: {' '.join(str(e) for e in errors)}" for field, errors in form.errors.items()
    )


@login_required
@require_GET
def cart_detail(request: HttpRequest) -> HttpResponse:
    return render(request, "cart/detail.html", {"cart": cart_get(user=_user(request))})


@login_required
@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    form = CartAddForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Could not add to the cart: {_form_error(form)}")
        return redirect("cart:detail")
    try:
        line = services.cart_line_add(user=_user(request), **form.cleaned_data)
    except StorefrontError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Added {form.cleaned_data['quantity']} x {line.product.name}.")
    return redirect("cart:detail")


@login_required
@require_POST
def cart_line_update(request: HttpRequest, pk: int) -> HttpResponse:
    form = CartLineQuantityForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Could not update the line: {_form_error(form)}")
        return redirect("cart:detail")
    try:
        services.cart_line_update(
            user=_user(request), line_id=pk, quantity=form.cleaned_data["quantity"]
        )
    except StorefrontError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Quantity updated.")
    return redirect("cart:detail")


@login_required
@require_POST
def cart_line_remove(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.cart_line_remove(user=_user(request), line_id=pk)
    except StorefrontError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Removed from the cart.")
    return redirect("cart:detail")
