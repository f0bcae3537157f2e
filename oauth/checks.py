"""System checks of our own: what `manage.py check --deploy` must refuse or warn about."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import DatabaseError

from .keys import UNREADABLE, algorithms_in_use, signing_key_readable
from .models import SigningKey


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
    if settings.ID_TOKEN_ALGORITHM != "RS256":
        problems.append(
            Warning(
                f"ID_TOKEN_ALGORITHM is {settings.ID_TOKEN_ALGORITHM}.",
                hint="OpenID Connect clients may expect RS256 only (OIDC Core §15.1, Discovery "
                "§3): id_tokens signed otherwise can be refused by them.",
                id="authserver.W003",
            )
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


@register(Tags.security, deploy=True)
def signing_keys_readable(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Keys that no longer decrypt (SECRET_KEY changed while SIGNING_KEY_ENCRYPTION_KEY was
    unset) stop all signing, while the server otherwise looks healthy."""
    try:
        unreadable = [
            key.kid
            for key in SigningKey.objects.filter(
                algorithm__in=algorithms_in_use(),
                state__in=[SigningKey.State.ACTIVE, SigningKey.State.NEXT],
            )
            if not signing_key_readable(key)
        ]
    except DatabaseError:
        return []  # no database or no tables yet (before migrate): no keys to read
    if not unreadable:
        return []
    return [Error(f"Signing keys {', '.join(unreadable)} {UNREADABLE}", id="authserver.E003")]


@register(Tags.caches)
def shared_cache(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    if settings.DEBUG or settings.REDIS_URL:
        return []
    return [
        Warning(
            "REDIS_URL is not set: each process keeps its own cache.",
            hint="Rate limits, key rotations and client changes are not shared between "
            "processes, and a running server does not see what manage.py commands such as "
            "rotatekeys change. Set REDIS_URL.",
            id="authserver.W001",
        )
    ]
