"""The operators' panel: clients, grants, consents, signing keys and security events.

Thin shells over the services. No secret or token is ever shown, only hash prefixes; a client
secret appears once, on the page that follows its creation or rotation.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Max, QuerySet
from django.db.models.functions import Greatest
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from authserver.admin_base import NulRefused

from .clients import client_grants_revoke, client_register, client_secret_rotate, client_set_active
from .events import Kind, Origin, event_record
from .keys import signing_key_rotate
from .models import (
    Client,
    Consent,
    Grant,
    GrantType,
    RefreshToken,
    SecurityEvent,
    SigningKey,
    validate_origins,
    validate_redirect_uris,
)
from .scopes import SCOPE_DESCRIPTIONS, scope_list, scope_string
from .services import consent_withdraw, grant_revoke

NEW_SECRETS = "_new_client_secrets"


class LinesField(forms.CharField):
    """One value per line, stored as a list."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 80})

    def __init__(self, *, check: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:
        text = super().to_python(value)
        return [line.strip() for line in text.splitlines() if line.strip()]

    def validate(self, value: list[str]) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"])
        self.check(value)


class ClientForm(forms.ModelForm):
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

    class Meta:
        model = Client
        fields = [
            "name", "client_type", "redirect_uris", "allowed_origins", "allowed_scopes",
            "grant_types", "first_party", "introspect_any_token", "is_active",
            "access_token_lifetime", "refresh_token_lifetime", "logo_uri", "homepage_uri",
        ]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial["allowed_scopes"] = scope_list(self.instance.allowed_scopes)

    def clean_allowed_scopes(self) -> str:
        return scope_string(self.cleaned_data["allowed_scopes"])

    def clean_grant_types(self) -> list[str]:
        chosen = self.cleaned_data["grant_types"]
        if GrantType.AUTHORIZATION_CODE not in chosen:
            raise forms.ValidationError(
                _("The authorization code grant is how a client starts; it cannot be left out.")
            )
        return [value for value in GrantType.values if value in chosen]


@admin.register(Client)
class ClientAdmin(NulRefused, admin.ModelAdmin):
    form = ClientForm
    list_display = [
        "name", "client_id", "client_type", "first_party", "is_active", "created_at", "last_used",
    ]  # fmt: skip
    list_filter = ["client_type", "first_party", "is_active"]
    search_fields = ["name", "client_id"]
    readonly_fields = ["client_id", "secret_fingerprint", "created_at"]
    actions = ["disable", "enable", "rotate_secret", "revoke_grants"]
    fieldsets = [
        (None, {"fields": ["name", "client_id", "client_type", "secret_fingerprint", "is_active"]}),
        (
            _("Redirects and scopes"),
            {"fields": ["redirect_uris", "allowed_origins", "allowed_scopes", "grant_types"]},
        ),
        (_("Trust"), {"fields": ["first_party", "introspect_any_token"]}),
        (_("Token lifetimes"), {"fields": ["access_token_lifetime", "refresh_token_lifetime"]}),
        (_("Shown to people"), {"fields": ["logo_uri", "homepage_uri", "created_at"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Client]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                last_used_at=Greatest(
                    Max("grant__created_at"), Max("grant__refresh_tokens__created_at")
                )
            )
        )

    @admin.display(description=_("last used"), ordering="last_used_at")
    def last_used(self, client: Client) -> Any:
        return getattr(client, "last_used_at", None)

    @admin.display(description=_("secret"))
    def secret_fingerprint(self, client: Client) -> str:
        if client.is_public:
            return str(_("none (public client)"))
        return f"sha256 {client.secret_hash[:8]}…"

    def save_model(self, request: HttpRequest, client: Client, form: Any, change: bool) -> None:
        origin = Origin.of(request)
        if not change:
            secret = client_register(client, origin=origin)
            if secret is not None:
                self.show_secret_once(request, client, secret)
            return
        changed = list(form.changed_data)
        if client.is_public and client.secret_hash:
            client.secret_hash = ""
            changed.append("secret_hash")
        # Only what the form changed: a secret rotated meanwhile must not be written over.
        client.save(update_fields=changed or None)
        if "is_active" in changed:
            kind = Kind.CLIENT_ENABLED if client.is_active else Kind.CLIENT_DISABLED
            event_record(kind, origin=origin, client_id=client.pk)
        if not client.is_public and not client.secret_hash:
            # Became confidential: it needs a secret.
            self.show_secret_once(request, client, client_secret_rotate(client, origin=origin))

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Registering a client hands out a secret: that takes the right to change clients."""
        return super().has_add_permission(request) and self.has_change_permission(request)

    def show_secret_once(self, request: HttpRequest, client: Client, secret: str) -> None:
        setattr(request, NEW_SECRETS, [*getattr(request, NEW_SECRETS, []), (client, secret)])

    def secrets_page(self, request: HttpRequest) -> HttpResponse | None:
        secrets = getattr(request, NEW_SECRETS, None)
        if not secrets:
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Copy the client secret now"),
            "secrets": secrets,
            "opts": self.model._meta,
            "back": reverse("admin:oauth_client_changelist"),
        }
        response = TemplateResponse(request, "admin/oauth/client_secret.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def response_add(self, request: HttpRequest, obj: Client, *args: Any) -> HttpResponse:
        return self.secrets_page(request) or super().response_add(request, obj, *args)

    def response_change(self, request: HttpRequest, obj: Client) -> HttpResponse:
        return self.secrets_page(request) or super().response_change(request, obj)

    @admin.action(description=_("Disable selected clients"), permissions=["change"])
    def disable(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        for client in queryset.filter(is_active=True):
            client_set_active(client, False, origin=Origin.of(request))
        self.message_user(request, _("Disabled: they can no longer obtain or refresh tokens."))

    @admin.action(description=_("Enable selected clients"), permissions=["change"])
    def enable(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        for client in queryset.filter(is_active=False):
            client_set_active(client, True, origin=Origin.of(request))
        self.message_user(request, _("Enabled."))

    @admin.action(description=_("Rotate secret of selected clients"), permissions=["change"])
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[Client]) -> Any:
        for client in queryset.filter(client_type=Client.Type.CONFIDENTIAL):
            self.show_secret_once(
                request, client, client_secret_rotate(client, origin=Origin.of(request))
            )
        page = self.secrets_page(request)
        if page is None:
            self.message_user(request, _("Public clients have no secret."), messages.WARNING)
        return page

    @admin.action(description=_("Revoke all grants of selected clients"), permissions=["change"])
    def revoke_grants(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        revoked = sum(client_grants_revoke(c, origin=Origin.of(request)) for c in queryset)
        self.message_user(request, _("%(count)d grants revoked.") % {"count": revoked})


class ReadOnlyAdmin(NulRefused, admin.ModelAdmin):
    """Rows written by the flows: operators look, and act through actions only."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [field.name for field in self.model._meta.fields] + list(self.readonly_fields)


class RefreshTokenInline(admin.TabularInline):
    model = RefreshToken
    fields = ["fingerprint", "created_at", "expires_at", "used_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-created_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("token"))
    def fingerprint(self, token: RefreshToken) -> str:
        return f"sha256 {token.token_hash[:8]}…"


@admin.register(Grant)
class GrantAdmin(ReadOnlyAdmin):
    list_display = ["user", "client", "scope", "created_at", "last_refresh", "revoked_at"]
    list_filter = [("client", admin.RelatedOnlyFieldListFilter), "created_at"]
    search_fields = ["user__username", "user__email", "client__name", "client__client_id"]
    list_select_related = ["user", "client"]
    inlines = [RefreshTokenInline]
    actions = ["revoke"]
    exclude = ["authorization_code"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Grant]:
        return (
            super()
            .get_queryset(request)
            .annotate(last_refresh_at=Max("refresh_tokens__created_at"))
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f for f in super().get_readonly_fields(request, obj) if f != "authorization_code"]

    @admin.display(description=_("last refresh"), ordering="last_refresh_at")
    def last_refresh(self, grant: Grant) -> Any:
        return getattr(grant, "last_refresh_at", None)

    @admin.action(description=_("Revoke selected grants"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Grant]) -> None:
        origin = Origin.of(request)
        revoked = 0
        for grant in queryset:
            if grant_revoke(grant_id=grant.pk):
                revoked += 1
                event_record(Kind.GRANTS_REVOKED, origin=origin, user_id=grant.user_id,
                             client_id=grant.client_id, grants=1)  # fmt: skip
        self.message_user(request, _("%(count)d grants revoked.") % {"count": revoked})


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ["user", "client", "scope", "created_at", "updated_at"]
    list_filter = [("client", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["user__username", "client__name"]
    list_select_related = ["user", "client"]
    actions = ["withdraw"]

    @admin.action(
        description=_("Withdraw selected consents (and their grants)"), permissions=["change"]
    )
    def withdraw(self, request: HttpRequest, queryset: QuerySet[Consent]) -> None:
        for consent in queryset.select_related("user", "client"):
            consent_withdraw(user=consent.user, client=consent.client, origin=Origin.of(request))
        self.message_user(request, _("Withdrawn: these apps must ask again."))


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin):
    list_display = ["kid", "algorithm", "state", "created_at", "activated_at", "retired_at"]
    list_filter = ["state", "algorithm"]
    exclude = ["private_key_encrypted"]
    actions = ["rotate"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        hidden = {"private_key_encrypted"}
        return [f for f in super().get_readonly_fields(request, obj) if f not in hidden]

    @admin.action(
        description=_("Rotate the keys of the selected algorithms"), permissions=["change"]
    )
    def rotate(self, request: HttpRequest, queryset: QuerySet[SigningKey]) -> None:
        for algorithm in sorted(set(queryset.values_list("algorithm", flat=True))):
            activated, _retired = signing_key_rotate(algorithm=algorithm, origin=Origin.of(request))
            self.message_user(request, _("%(algorithm)s: key %(kid)s is now active.") % {
                "algorithm": algorithm, "kid": activated.kid})  # fmt: skip


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "user", "client", "ip_address", "short_user_agent"]
    list_filter = [
        "kind",
        ("user", admin.RelatedOnlyFieldListFilter),
        ("client", admin.RelatedOnlyFieldListFilter),
        "created_at",
    ]
    date_hierarchy = "created_at"
    search_fields = ["user__username", "client__name", "ip_address"]
    list_select_related = ["user", "client"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("user agent"))
    def short_user_agent(self, event: SecurityEvent) -> str:
        return event.user_agent[:60]
