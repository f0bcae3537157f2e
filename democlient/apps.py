from __future__ import annotations

from django.apps import AppConfig


class DemoClientConfig(AppConfig):
    """A stand-in third-party app, on in development only (DEMO_CLIENT setting)."""

    name = "democlient"
    verbose_name = "Demo client"
