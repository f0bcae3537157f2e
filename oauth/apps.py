from __future__ import annotations

from django.apps import AppConfig


class OAuthConfig(AppConfig):
    name = "oauth"
    verbose_name = "OAuth"

    def ready(self) -> None:
        from . import clients  # noqa: F401  (connects the receivers that announce changes)
