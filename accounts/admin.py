from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from authserver.admin_base import NulRefused, ReadOnlyAdmin
from infra.origin import Origin

from .models import SignInSession, SocialIdentity, UnlinkNotice, User
from .sessions import device_label, sessions_end

PRIVILEGES = ("is_staff", "is_superuser", "groups", "user_permissions")
IDENTITY_FIELDS = ("provider", "uid", "email", "email_verified", "first_login_at", "last_login_at")


class SocialIdentityInline(admin.TabularInline[SocialIdentity, User]):
    model = SocialIdentity
    fields = readonly_fields = IDENTITY_FIELDS
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class AccountAdmin(NulRefused[User], UserAdmin[User]):
    list_display = ("username", "email", "email_verified", "is_staff", "is_active")
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        (_("Name and email"), {"fields": ("name", "email_verified")}),
    )
    inlines = [SocialIdentityInline]

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> Any:
        """Who may use the admin, and with what rights, is for superusers to decide: a staff
        member who may change accounts could otherwise make itself, or anyone, a superuser."""
        fields = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return fields
        return [*fields, *PRIVILEGES]

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        """A superuser's account (its password included) is changed by superusers only: else
        whoever may change accounts could take one over."""
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)


@admin.register(SocialIdentity)
class SocialIdentityAdmin(NulRefused[SocialIdentity]):
    """Upstream identities, read-only: they come and go through sign-in and the account page."""

    list_display = ["user", "provider", "uid", "email", "email_verified", "last_login_at"]
    list_filter = ["provider", "email_verified"]
    search_fields = ["user__username", "uid", "email"]
    list_select_related = ["user"]
    exclude = ["raw_profile"]
    readonly_fields = [
        "user", "provider", "uid", "email", "email_verified", "name", "picture",
        "first_login_at", "last_login_at", "raw_profile_shown",
    ]  # fmt: skip

    @admin.display(description=_("raw profile"))
    def raw_profile_shown(self, identity: SocialIdentity) -> Any:
        return identity.raw_profile

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(UnlinkNotice)
class UnlinkNoticeAdmin(ReadOnlyAdmin[UnlinkNotice]):
    """What Kakao and Naver told us; one never settled waits for `manage.py settleunlinks`."""

    list_display = ["provider", "uid", "reason", "received_at", "settled_at"]
    list_filter = ["provider", "reason"]
    search_fields = ["uid"]


@admin.register(SignInSession)
class SignInSessionAdmin(ReadOnlyAdmin[SignInSession]):
    """Where people are signed in; an operator can end sessions (after an incident, say). The
    Django session key, a secret, is not shown."""

    list_display = ["user", "device", "ip_address", "created_at", "last_seen_at", "ended_at"]
    list_filter = ["created_at", "ended_at"]
    search_fields = ["user__username", "user__email", "sid", "ip_address"]
    list_select_related = ["user"]
    fields = ["sid", "user", "method", "ip_address", "user_agent", "created_at",
              "last_seen_at", "ended_at"]  # fmt: skip
    actions = ["end_sessions"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields

    @admin.display(description=_("device"))
    def device(self, session: SignInSession) -> str:
        return device_label(session.user_agent)

    @admin.action(description=_("End selected sessions"), permissions=["change"])
    def end_sessions(self, request: HttpRequest, queryset: QuerySet[SignInSession]) -> None:
        ended = 0
        for user in User.objects.filter(pk__in=queryset.values("user_id")):
            sids = queryset.filter(user=user).values_list("sid", flat=True)
            ended += len(sessions_end(user=user, sids=list(sids), origin=Origin.of(request),
                                      reason="operator"))  # fmt: skip
        self.message_user(request, _("%(count)d sessions ended.") % {"count": ended})
