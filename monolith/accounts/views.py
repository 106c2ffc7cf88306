"""Accounts pages: log in and out, register, and the profile with its address book."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.messages.views import SuccessMessageMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from monolith.accounts import selectors, services
from monolith.accounts.forms import AddressForm, ProfileForm, RegistrationForm
from monolith.accounts.models import Address, User
from monolith.core.errors import NotFound

__all__ = [
    "LoginView",
    "LogoutView",
    "address_add",
    "address_delete",
    "address_make_default",
    "profile",
    "register",
]


class LoginView(SuccessMessageMixin[AuthenticationForm], auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    success_message = "Welcome back, %(username)s."


class LogoutView(auth_views.LogoutView):
    """POST only (Django refuses GET), so a link or prefetch cannot log anyone out."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You have been logged out.")
        return response


def _next_url(request: HttpRequest) -> str:
    """The ``next`` parameter if it points into this site, else an empty string."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _customer(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # only reachable if a view forgets @login_required
        raise PermissionDenied
    return user


@require_http_methods(["GET", "HEAD", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    next_url = _next_url(request)
    if request.user.is_authenticated:
        return redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
    form = RegistrationForm(request.POST) if request.method == "POST" else RegistrationForm()
    if form.is_valid():
        user = services.user_register(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            first_name=form.cleaned_data["first_name"],
            last_name=form.cleaned_data["last_name"],
        )
        login(request, user)
        messages.success(request, f"Welcome, {user.username}! Your account is ready.")
        return redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
    return render(request, "accounts/register.html", {"form": form, "next": next_url})


def _render_profile(
    request: HttpRequest, *, profile_form: ProfileForm, address_form: AddressForm
) -> HttpResponse:
    context = {
        "profile_form": profile_form,
        "address_form": address_form,
        "addresses": selectors.address_list_for_user(user=_customer(request)),
    }
    return render(request, "accounts/profile.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user = _customer(request)
    if request.method != "POST":
        return _render_profile(
            request, profile_form=ProfileForm(instance=user), address_form=AddressForm()
        )
    form = ProfileForm(request.POST, instance=user)
    if not form.is_valid():
        return _render_profile(request, profile_form=form, address_form=AddressForm())
    services.user_profile_update(user=user, **form.cleaned_data)
    messages.success(request, "Your profile has been saved.")
    return redirect("accounts:profile")


@login_required
@require_POST
def address_add(request: HttpRequest) -> HttpResponse:
    user = _customer(request)
    form = AddressForm(request.POST)
    if not form.is_valid():
        return _render_profile(request, profile_form=ProfileForm(instance=user), address_form=form)
    services.address_create(user=user, **form.cleaned_data)
    messages.success(request, "The address has been added.")
    return redirect("accounts:profile")


def _owned_address(request: HttpRequest, pk: int) -> Address:
    try:
        return selectors.address_get_for_user(user=_customer(request), address_id=pk)
    except NotFound as error:
        raise Http404(error.message) from None


@login_required
@require_POST
def address_make_default(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    address = services.address_set_default(address=_owned_address(request, pk))
    messages.success(request, f"{address.label or address.line1} is now your default address.")
    return redirect("accounts:profile")


@login_required
@require_POST
def address_delete(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    services.address_delete(address=_owned_address(request, pk))
    messages.success(request, "The address has been deleted.")
    return redirect("accounts:profile")
