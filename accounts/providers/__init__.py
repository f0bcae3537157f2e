"""Upstream identity providers, by id. Only those with a client id configured are offered."""

from __future__ import annotations

from .base import (
    Pending,
    Profile,
    Provider,
    UpstreamDenied,
    UpstreamError,
    UpstreamInvalid,
    UpstreamRefused,
    UpstreamUnavailable,
    authorization_error,
    checked_profile,
)
from .google import Google
from .kakao import Kakao
from .naver import Naver

PROVIDERS: dict[str, Provider] = {p.id: p for p in (Naver(), Kakao(), Google())}


def configured_providers() -> list[Provider]:
    return [provider for provider in PROVIDERS.values() if provider.is_configured()]


def configured_provider(provider_id: str) -> Provider | None:
    provider = PROVIDERS.get(provider_id)
    return provider if provider is not None and provider.is_configured() else None


__all__ = [
    "PROVIDERS", "Pending", "Profile", "Provider", "UpstreamDenied", "UpstreamError",
    "UpstreamInvalid", "UpstreamRefused", "UpstreamUnavailable", "authorization_error",
    "checked_profile",
    "configured_provider", "configured_providers",
]  # fmt: skip
