from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from oauth.native import Exchanger, exchanger_register

        from . import native, sign_in  # noqa: F401  (sign_in connects the receivers)

        exchanger_register(
            Exchanger(person=native.exchange_person, offered=native.exchange_offered)
        )
