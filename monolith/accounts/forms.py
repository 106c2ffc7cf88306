"""HTML forms of the accounts pages. They validate; the views hand clean data to services."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UserCreationForm

from monolith.accounts.models import Address, User
from monolith.accounts.selectors import user_email_taken

__all__ = ["AddressForm", "ProfileForm", "RegistrationForm"]

_EMAIL_TAKEN = "A user with that email address already exists."


# Django's generic classes are not subscriptable at run time, hence the type-arg ignores.
class RegistrationForm(UserCreationForm[User]):
    """Django's sign-up form (case-insensitive username check, password validators) plus
    email and names."""

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email", "first_name", "last_name")

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"]
        if user_email_taken(email=email):
            raise forms.ValidationError(_EMAIL_TAKEN, code="unique")
        return email


class ProfileForm(forms.ModelForm[User]):
    class Meta:
        model = User
        fields = ("first_name", "last_name", "email", "phone")

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"]
        if user_email_taken(email=email, exclude_user_id=self.instance.pk):
            raise forms.ValidationError(_EMAIL_TAKEN, code="unique")
        return email


class AddressForm(forms.ModelForm[Address]):
    # Shares the profile page with ProfileForm, which also has a `phone` field.
    prefix = "address"

    class Meta:
        model = Address
        fields = (
            "label",
            "full_name",
            "line1",
            "line2",
            "city",
            "postal_code",
            "country",
            "phone",
            "is_default",
        )
        labels = {
            "line1": "Address line 1",
            "line2": "Address line 2",
            "is_default": "Make this my default address",
        }
        widgets = {"country": forms.TextInput(attrs={"size": 2, "placeholder": "DE"})}
