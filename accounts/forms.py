from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, SetPasswordMixin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .emails import LONGEST, email_canonical
from .models import User


class LoginForm(AuthenticationForm):
    """Django's sign-in form, with a field that takes a username or an email address."""

    username = forms.CharField(
        label=_("Username or email"),
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("That username or email and password do not match an account."),
    }


class SignupForm(SetPasswordMixin, forms.Form):  # type: ignore[type-arg]  # generic in the stubs only
    """An email address and a password twice, named as Django's own forms name them. Nothing
    here says whether the address has an account: the sign-up answers the same either way."""

    email = forms.EmailField(
        label=_("Email"),
        max_length=LONGEST,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    password1, password2 = SetPasswordMixin.create_password_fields()

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"]
        if email_canonical(email) is None:
            raise ValidationError(ADDRESS_REFUSED, code="invalid")
        return email

    def clean(self) -> dict[str, Any]:
        self.validate_passwords()
        someone = User(email=self.cleaned_data.get("email", ""))
        self.validate_password_for_user(someone)
        return super().clean() or {}


ADDRESS_REFUSED = _("Enter an address with one @, a valid domain name and no quotes or spaces.")
