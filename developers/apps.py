from __future__ import annotations

from django.apps import AppConfig


class DevelopersConfig(AppConfig):
    name = "developers"
    verbose_name = "Developer console"

    def ready(self) -> None:
        """RFC 7591 and RFC 7592 join the one authorization server."""
        from oauth.server import server

        from .registration import Configuration, Registration

        server.register_endpoint(Registration)
        server.register_endpoint(Configuration)
