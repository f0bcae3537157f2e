"""The console's forms: an app's settings, and a person to add to its team."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from oauth.forms import LinesField
from oauth.models import Client, ClientMember
from oauth.redirect_uris import validate_redirect_uris
from oauth.scopes import SCOPE_DESCRIPTIONS, scope_list, scope_string

from .services import app_kind_type

NO_NUL = _("Null characters are not allowed.")


def no_nul(value: str) -> None:
    if "\x00" in value:
        raise forms.ValidationError(NO_NUL, code="null_characters_not_allowed")


class AppForm(forms.ModelForm[Client]):
    """Create or change an app. The kind is chosen once, at creation: it decides whether the
    app has a secret."""

    kind = forms.ChoiceField(
        label=_("Kind of app"), choices=Client.Kind.choices, widget=forms.RadioSelect
    )
    redirect_uris = LinesField(
        label=_("Redirect URIs"),
        check=validate_redirect_uris,
        help_text=_("One per line."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    allowed_scopes = forms.MultipleChoiceField(
        label=_("Scopes the app asks for"),
        choices=list(SCOPE_DESCRIPTIONS.items()),
        widget=forms.CheckboxSelectMultiple,
    )
    homepage_uri = forms.URLField(label=_("Home page"), required=False, assume_scheme="https")
    privacy_policy_uri = forms.URLField(
        label=_("Privacy policy"), required=False, assume_scheme="https"
    )
    terms_uri = forms.URLField(label=_("Terms of service"), required=False, assume_scheme="https")

    class Meta:
        model = Client
        fields = [
            "name", "kind", "redirect_uris", "allowed_scopes", "homepage_uri",
            "privacy_policy_uri", "terms_uri",
        ]  # fmt: skip
        labels = {"name": _("App name")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].validators.append(no_nul)
        for name in ("homepage_uri", "privacy_policy_uri", "terms_uri"):
            self.fields[name].validators.append(no_nul)
        if self.instance.pk:
            self.initial["allowed_scopes"] = scope_list(self.instance.allowed_scopes)
            self.fields["kind"].disabled = True
        else:
            self.initial.setdefault("allowed_scopes", ["openid", "profile"])

    def clean_allowed_scopes(self) -> str:
        return scope_string(self.cleaned_data["allowed_scopes"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # The kind decides the client type, which Client.clean checks the redirect URIs by.
        self.instance.client_type = app_kind_type(cleaned.get("kind") or self.instance.kind)
        return cleaned


class MemberForm(forms.Form):
    identifier = forms.CharField(
        label=_("Username or email address"), max_length=254, validators=[no_nul]
    )
    role = forms.ChoiceField(label=_("Role"), choices=ClientMember.Role.choices)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=ClientMember.Role.choices)


class RotateForm(forms.Form):
    """How long the current secret keeps working beside the new one (at most seven days)."""

    overlap = forms.TypedChoiceField(
        label=_("Keep the current secret working for"),
        coerce=int,
        choices=[
            (0, _("No time: it stops now")),
            (3600, _("One hour")),
            (86400, _("One day")),
            (7 * 86400, _("Seven days")),
        ],
        initial=86400,
    )


class ReviewForm(forms.Form):
    note = forms.CharField(
        label=_("A note for the reviewers (optional)"),
        required=False,
        max_length=2000,
        validators=[no_nul],
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class InitialTokenForm(forms.Form):
    """An app owner's initial access token, for registering clients of their own (RFC 7591)."""

    max_clients = forms.IntegerField(
        label=_("How many clients it may register"), min_value=1, max_value=5, initial=1
    )
    expires_in = forms.TypedChoiceField(
        label=_("Valid for"),
        coerce=int,
        choices=[(86400, _("One day")), (7 * 86400, _("Seven days"))],
        initial=86400,
    )
