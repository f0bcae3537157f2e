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


class EmailChangeForm(forms.Form):
    """The new address, and the current password when the account has one: an open session
    alone must not hand the account's mail (and so its password resets) to someone else."""

    email = forms.EmailField(
        label=_("New email address"),
        max_length=LONGEST,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        if not user.has_usable_password():
            del self.fields["password"]

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"]
        if email_canonical(email) is None:
            raise ValidationError(ADDRESS_REFUSED, code="invalid")
        if email_canonical(email) == email_canonical(self.user.email):
            raise ValidationError(_("This is your address already."), code="same")
        return email

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError(_("That is not your current password."), code="wrong")
        return password
