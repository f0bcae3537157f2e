from __future__ import annotations

from django.apps import AppConfig


class FakeProvidersConfig(AppConfig):
    """Local fakes of Google, Naver and Kakao, installed with DEBUG on only, for the
    `manage.py fakeproviders` command."""

    name = "fakeproviders"
    verbose_name = "Fake providers (development)"
