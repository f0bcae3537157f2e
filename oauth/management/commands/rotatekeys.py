"""Rotate the signing keys without downtime (see keys.signing_key_rotate)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from oauth.keys import algorithms_in_use, signing_key_rotate, verification_window


class Command(BaseCommand):
    help = (
        "Make a new signing key active. The previous one stays in the JWKS until every token "
        "it signed has expired; running processes switch without a restart."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--algorithm",
            choices=settings.SIGNING_ALGORITHMS,
            action="append",
            help="Rotate only this algorithm's key (default: every algorithm in use).",
        )

    def handle(self, *args: Any, algorithm: list[str] | None, **options: Any) -> None:
        for name in sorted(algorithm or algorithms_in_use()):
            activated, retired = signing_key_rotate(algorithm=name)
            self.stdout.write(f"{name}: key {activated.kid} is now active.")
            if retired is not None:
                until = timezone.localtime(timezone.now() + verification_window())
                self.stdout.write(
                    f"{name}: key {retired.kid} is retired; it stays published until "
                    f"{until:%Y-%m-%d %H:%M:%S %Z}, when the last token it signed expires."
                )
        if not settings.REDIS_URL:
            self.stderr.write(
                "REDIS_URL is not set, so running servers do not hear of this rotation: they "
                "may keep signing with the retired key until they restart."
            )
