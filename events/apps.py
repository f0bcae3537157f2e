from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = _("Security events")

    def ready(self) -> None:
        from . import recording  # noqa: F401  (connects the rate-limit receiver)
