"""Shapes of the accounts API: they validate input and render output, and write nothing."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from monolith.accounts.models import Address, User
from monolith.accounts.selectors import user_email_taken, user_username_taken
from strangler.servicekit.bounds import BoundedModelSerializer
from strangler.servicekit.strict_fields import StrictCharField, StrictEmailField

__all__ = [
    "AddressSerializer",
    "ProfileSerializer",
    "RegistrationSerializer",
    "TokenObtainSerializer",
]

_USERNAME_TAKEN = "A user with that username already exists."
_EMAIL_TAKEN = "A user with that email address already exists."


class RegistrationSerializer(BoundedModelSerializer[User]):
    # Declared by hand so uniqueness is checked ignoring case, with one message per field.
    username = StrictCharField(max_length=150, validators=[UnicodeUsernameValidator()])
    email = StrictEmailField(max_length=254)
    password = StrictCharField(
        write_only=True, trim_whitespace=False, style={"input_type": "password"}
    )
    token = serializers.CharField(source="auth_token.key", read_only=True)

    class Meta:
        model = User
        fields = ("id", "username", "email", "password", "first_name", "last_name", "token")
        read_only_fields = ("id",)

    def validate_username(self, value: str) -> str:
        if user_username_taken(username=value):
            raise serializers.ValidationError(_USERNAME_TAKEN, code="unique")
        return value

    def validate_email(self, value: str) -> str:
        if user_email_taken(email=value):
            raise serializers.ValidationError(_EMAIL_TAKEN, code="unique")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # The unsaved user lets the similarity validator compare the password with the names.
        candidate = User(**{k: v for k, v in attrs.items() if k != "password"})
        try:
            password_validation.validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as error:
            raise serializers.ValidationError({"password": list(error.messages)}) from None
        return attrs


class TokenObtainSerializer(serializers.Serializer[dict[str, Any]]):
    username = StrictCharField(write_only=True)
    password = StrictCharField(
        write_only=True, trim_whitespace=False, style={"input_type": "password"}
    )
    token = serializers.CharField(read_only=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user = authenticate(
            self.context.get("request"), username=attrs["username"], password=attrs["password"]
        )
        if not isinstance(user, User):  # wrong password, unknown or inactive user
            raise serializers.ValidationError(
                "Unable to log in with the provided username and password.", code="authorization"
            )
        return {"user": user}


class ProfileSerializer(BoundedModelSerializer[User]):
    email = StrictEmailField(max_length=254)

    class Meta:
        model = User
        fields = (
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "phone",
            "is_staff",
            "date_joined",
        )
        read_only_fields = ("id", "username", "is_staff", "date_joined")

    def validate_email(self, value: str) -> str:
        owner_id = self.instance.pk if isinstance(self.instance, User) else None
        if user_email_taken(email=value, exclude_user_id=owner_id):
            raise serializers.ValidationError(_EMAIL_TAKEN, code="unique")
        return value


class AddressSerializer(BoundedModelSerializer[Address]):
    class Meta:
        model = Address
        fields = (
            "id",
            "label",
            "full_name",
            "line1",
            "line2",
            "city",
            "postal_code",
            "country",
            "phone",
            "is_default",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "created_at", "updated_at")
