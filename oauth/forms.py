"""The operators' form for a client: redirect URIs and origins one per line, scopes and grant
types as boxes to tick."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Client, GrantType, default_grant_types
from .redirect_uris import (
    validate_backchannel_logout_uri,
    validate_origins,
    validate_post_logout_redirect_uris,
    validate_redirect_uris,
)
from .scopes import SCOPE_DESCRIPTIONS, scope_list, scope_string


class LinesField(forms.Field):
    """One value per line, stored as a list."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 80})

    def __init__(self, *, check: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:
        text = value if isinstance(value, str) else ""
        if "\x00" in text:  # PostgreSQL's jsonb cannot hold it
            raise forms.ValidationError(
                _("Null characters are not allowed."), code="null_characters_not_allowed"
            )
        return [line.strip() for line in text.splitlines() if line.strip()]

    def validate(self, value: list[str]) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        self.check(value)


class ClientForm(forms.ModelForm[Client]):
    redirect_uris = LinesField(
        label=_("Redirect URIs"),
        check=validate_redirect_uris,
        error_messages={"required": _("Register at least one redirect URI.")},
        help_text=_("One per line. https, or http on 127.0.0.1, [::1] or localhost only."),
    )
    allowed_origins = LinesField(
        label=_("Allowed origins"),
        check=validate_origins,
        required=False,
        help_text=_(
            "Public clients in browsers: more origins (https://host[:port]) that may call the "
            "token, revocation and userinfo endpoints. Those of the redirect URIs always may."
        ),
    )
    post_logout_redirect_uris = LinesField(
        label=_("Post-logout redirect URIs"),
        check=validate_post_logout_redirect_uris,
        required=False,
        help_text=_(
            "One per line: where the app may send people after signing them out here "
            "(exact match). https, or http on 127.0.0.1, [::1] or localhost only."
        ),
    )
    allowed_scopes = forms.MultipleChoiceField(
        label=_("Allowed scopes"),
        choices=[(name, f"{name}: {text}") for name, text in SCOPE_DESCRIPTIONS.items()],
        widget=forms.CheckboxSelectMultiple,
    )
    grant_types = forms.MultipleChoiceField(
        label=_("Grant types"), choices=GrantType.choices, widget=forms.CheckboxSelectMultiple
    )
    logo_uri = forms.URLField(label=_("Logo URL"), required=False, assume_scheme="https")
    homepage_uri = forms.URLField(label=_("Homepage"), required=False, assume_scheme="https")
    privacy_policy_uri = forms.URLField(
        label=_("Privacy policy"), required=False, assume_scheme="https"
    )
    terms_uri = forms.URLField(label=_("Terms of service"), required=False, assume_scheme="https")
    backchannel_logout_uri = forms.URLField(
        label=_("Back-channel logout URI"),
        required=False,
        assume_scheme="https",
        validators=[validate_backchannel_logout_uri],
        help_text=_("Where logout tokens are POSTed when a session the app got tokens in ends."),
    )

    class Meta:
        model = Client
        fields = [
            "name", "client_type", "redirect_uris", "allowed_origins", "allowed_scopes",
            "grant_types", "first_party", "native", "introspect_any_token", "is_active",
            "access_token_lifetime", "refresh_token_lifetime", "logo_uri", "homepage_uri",
            "privacy_policy_uri", "terms_uri", "kind",
            "post_logout_redirect_uris", "backchannel_logout_uri",
        ]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial["allowed_scopes"] = scope_list(self.instance.allowed_scopes)
        if self.instance._state.adding:
            self.initial.setdefault("grant_types", default_grant_types())

    def clean_allowed_scopes(self) -> str:
        return scope_string(self.cleaned_data["allowed_scopes"])

    def clean_grant_types(self) -> list[str]:
        chosen = self.cleaned_data["grant_types"]
        if GrantType.AUTHORIZATION_CODE not in chosen:
            raise forms.ValidationError(
                _("The authorization code grant is how a client starts; it cannot be left out.")
            )
        return [value for value in GrantType.values if value in chosen]
