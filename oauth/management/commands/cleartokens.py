"""Delete expired and revoked codes, refresh tokens and grants; run it from cron."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oauth.services import tokens_clear


class Command(BaseCommand):
    help = "Delete expired and revoked codes, refresh tokens and grants, in bounded batches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        for kind, count in tokens_clear(batch_size=batch_size).items():
            self.stdout.write(f"Deleted {count} {kind}.")
