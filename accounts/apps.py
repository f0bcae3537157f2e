from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from oauth.native import Exchanger, exchanger_register

        from . import native, sign_in  # noqa: F401  (sign_in connects receivers)

        exchanger_register(
            Exchanger(person=native.exchange_person, offered=native.exchange_offered)
        )
