"""The operators' panel: clients, grants, consents and signing keys.

Thin shells over the services, which record the operator who acted. No secret or token is ever
shown, only hash prefixes; a client secret appears once, on the page that follows its creation
or rotation.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Max, QuerySet
from django.db.models.functions import Greatest
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from authserver.admin_base import NulRefused, ReadOnlyAdmin, operator

from .clients import (
    client_delete,
    client_grants_revoke,
    client_register,
    client_secret_rotate,
    client_set_active,
    client_update,
)
from .forms import ClientForm
from .keys import signing_key_rotate
from .models import Client, Consent, Grant, LogoutDelivery, RefreshToken, SigningKey
from .services import consent_withdraw, grants_revoke

NEW_SECRETS = "_new_client_secrets"
ROTATE_BUTTON = "_rotate_secret"


@admin.register(Client)
class ClientAdmin(NulRefused[Client]):
    form = ClientForm
    list_display = [
        "name", "client_id", "client_type", "first_party", "is_active", "created_at", "last_used",
    ]  # fmt: skip
    list_filter = ["client_type", "first_party", "native", "is_active", "live", "kind"]
    search_fields = ["name", "client_id"]
    readonly_fields = ["client_id", "secret_fingerprint", "live", "created_at"]
    actions = ["disable", "enable", "rotate_secret", "revoke_grants"]
    fieldsets = [
        (None, {"fields": ["name", "client_id", "client_type", "secret_fingerprint", "is_active"]}),
        (
            _("Redirects and scopes"),
            {"fields": ["redirect_uris", "allowed_origins", "allowed_scopes", "grant_types"]},
        ),
        (_("Logout"), {"fields": ["post_logout_redirect_uris", "backchannel_logout_uri"]}),
        (_("Trust"), {"fields": ["first_party", "native", "introspect_any_token", "live", "kind"]}),
        (_("Token lifetimes"), {"fields": ["access_token_lifetime", "refresh_token_lifetime"]}),
        (
            _("Shown to people"),
            {
                "fields": [
                    "logo_uri",
                    "homepage_uri",
                    "privacy_policy_uri",
                    "terms_uri",
                    "created_at",
                ]
            },
        ),
    ]

    def get_fieldsets(self, request: HttpRequest, obj: Client | None = None) -> Any:
        """A new client has no client_id, secret or creation time yet: they are made when it is
        saved (a client_id shown now would not be the one it gets)."""
        if obj is not None:
            return self.fieldsets
        not_yet = {"client_id", "secret_fingerprint", "created_at"}
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f not in not_yet]})
            for name, options in self.fieldsets
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
        if not client.secret_hash:
            return str(_("none yet"))
        return f"sha256 {client.secret_hash[:8]}…"

    def save_model(self, request: HttpRequest, client: Client, form: Any, change: bool) -> None:
        """Through the services: only what the form changed is written, and the operator who
        acted is recorded. "Save and rotate the secret" rotates it once the changes are in."""
        if not change:
            secret = client_register(client, **operator(request))
        else:
            secret = client_update(client, fields=list(form.changed_data), **operator(request))
            if secret is None and ROTATE_BUTTON in request.POST and not client.is_public:
                secret = client_secret_rotate(client, **operator(request))
        if secret is not None:
            self.show_secret_once(request, client, secret)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        """A client's grants, consents and codes go with it (client_delete): the right to delete
        the client is the right to end them, though nobody deletes those one by one."""
        deleted, counts, _rights_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set(), protected

    def delete_model(self, request: HttpRequest, client: Client) -> None:
        client_delete(client, **operator(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        for client in queryset:
            client_delete(client, **operator(request))

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
            client_set_active(client, False, **operator(request))
        self.message_user(request, _("Disabled: they can no longer obtain or refresh tokens."))

    @admin.action(description=_("Enable selected clients"), permissions=["change"])
    def enable(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        for client in queryset.filter(is_active=False):
            client_set_active(client, True, **operator(request))
        self.message_user(request, _("Enabled."))

    @admin.action(description=_("Rotate secret of selected clients"), permissions=["change"])
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[Client]) -> Any:
        for client in queryset.filter(client_type=Client.Type.CONFIDENTIAL):
            secret = client_secret_rotate(client, **operator(request))
            self.show_secret_once(request, client, secret)
        page = self.secrets_page(request)
        if page is None:
            self.message_user(request, _("Public clients have no secret."), messages.WARNING)
        return page

    @admin.action(description=_("Revoke all grants of selected clients"), permissions=["change"])
    def revoke_grants(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        revoked = sum(client_grants_revoke(c, **operator(request)) for c in queryset)
        self.message_user(request, _("%(count)d grants revoked.") % {"count": revoked})


TOKEN_FIELDS = ("fingerprint", "created_at", "expires_at", "used_at")


class RefreshTokenInline(admin.TabularInline[RefreshToken, Grant]):
    model = RefreshToken
    fields = readonly_fields = TOKEN_FIELDS
    extra = 0
    can_delete = False
    ordering = ["-created_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("token"))
    def fingerprint(self, token: RefreshToken) -> str:
        return f"sha256 {token.token_hash[:8]}…"


@admin.register(Grant)
class GrantAdmin(ReadOnlyAdmin[Grant]):
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
        revoked = grants_revoke(queryset, **operator(request))
        self.message_user(request, _("%(count)d grants revoked.") % {"count": revoked})


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin[Consent]):
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
            consent_withdraw(user=consent.user, client=consent.client, **operator(request))
        self.message_user(request, _("Withdrawn: these apps must ask again."))


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin[SigningKey]):
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
            activated, _retired = signing_key_rotate(algorithm=algorithm, **operator(request))
            self.message_user(request, _("%(algorithm)s: key %(kid)s is now active.") % {
                "algorithm": algorithm, "kid": activated.kid})  # fmt: skip


@admin.register(LogoutDelivery)
class LogoutDeliveryAdmin(ReadOnlyAdmin[LogoutDelivery]):
    """Back-channel logout tokens on their way to clients (the logout worker sends them): what
    is stuck, and why; "try again now" after a client is fixed."""

    list_display = ["client", "created_at", "attempts", "next_attempt_at", "delivered_at",
                    "given_up_at", "last_error"]  # fmt: skip
    list_filter = [("client", admin.RelatedOnlyFieldListFilter), "delivered_at", "given_up_at"]
    list_select_related = ["client"]
    actions = ["try_again"]

    @admin.action(description=_("Try again now"), permissions=["change"])
    def try_again(self, request: HttpRequest, queryset: QuerySet[LogoutDelivery]) -> None:
        count = queryset.filter(delivered_at__isnull=True).update(
            given_up_at=None, attempts=0, next_attempt_at=timezone.now()
        )
        self.message_user(
            request, _("%(count)d deliveries will be tried again.") % {"count": count}
        )
