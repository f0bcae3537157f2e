"""System checks of our own: what `manage.py check --deploy` must refuse or warn about."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def production_settings(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    problems: list[Any] = []
    if settings.DEBUG:
        problems.append(
            Error(
                "DEBUG is on.",
                hint="Never in production: it shows secrets on error pages.",
                id="authserver.E001",
            )  # fmt: skip
        )
    if not settings.ISSUER.startswith("https://"):
        problems.append(
            Error(
                f"ISSUER {settings.ISSUER!r} is not https.",
                hint="OAuth must be served over TLS (RFC 6749 §3.1).",
                id="authserver.E002",
            )  # fmt: skip
        )
    if settings.DEMO_CLIENT_ENABLED:
        problems.append(
            Warning(
                "DEMO_CLIENT is on: /demo/ serves the demo app.",
                hint="Set DEMO_CLIENT=false in production (and remove the demo-client client "
                "and the demo user that `make run` creates, if this database ever had them).",
                id="authserver.W002",
            )
        )
    return problems


@register(Tags.caches)
def shared_cache(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    if settings.DEBUG or settings.REDIS_URL:
        return []
    return [
        Warning(
            "REDIS_URL is not set: each process keeps its own cache.",
            hint="With several processes, rate limits, key rotations and client changes are not "
            "shared between them. Set REDIS_URL.",
            id="authserver.W001",
        )
    ]
