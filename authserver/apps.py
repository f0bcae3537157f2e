"""django.contrib.admin, serving our admin site (authserver/admin_site.py)."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class OperatorsAdminConfig(AdminConfig):
    default_site = "authserver.admin_site.OperatorsSite"
