"""Operators read the security events; nobody writes or changes them here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from authserver.admin_base import ReadOnlyAdmin

from .models import SecurityEvent


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin[SecurityEvent]):
    list_display = [
        "created_at", "kind", "user", "actor", "client", "ip_address", "short_user_agent",
    ]  # fmt: skip
    list_filter = [
        "kind",
        ("user", admin.RelatedOnlyFieldListFilter),
        ("client", admin.RelatedOnlyFieldListFilter),
        "created_at",
    ]
    date_hierarchy = "created_at"
    search_fields = ["user__username", "actor__username", "client__name", "ip_address", "pseudonym"]
    list_select_related = ["user", "actor", "client"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("user agent"))
    def short_user_agent(self, event: SecurityEvent) -> str:
        return event.user_agent[:60]
