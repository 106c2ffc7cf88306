from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from monolith.accounts.models import Address, User

__all__ = ["AddressAdmin", "UserAdmin"]


# Django's generic classes are not subscriptable at run time, hence the type-arg ignores.
@admin.register(User)
class UserAdmin(DjangoUserAdmin[User]):
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        ("Contact", {"fields": ("phone",)}),
    )
    # Email is required on our user, so the add page asks for it up front.
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "usable_password", "password1", "password2"),
            },
        ),
    )
    list_display = ("username", "email", "first_name", "last_name", "phone", "is_staff")
    search_fields = ("username", "email", "first_name", "last_name", "phone")


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin[Address]):
    list_display = ("full_name", "user", "line1", "city", "postal_code", "country", "is_default")
    list_filter = ("country", "is_default")
    search_fields = ("full_name", "line1", "city", "postal_code", "user__username", "user__email")
    raw_id_fields = ("user",)
    list_select_related = ("user",)
