from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OAuthConfig(AppConfig):
    name = "oauth"
    verbose_name = _("OAuth")

    def ready(self) -> None:
        from . import checks, clients  # noqa: F401  (registers the checks and receivers)
