"""Make an initial access token for dynamic client registration (RFC 7591 §3); the token is
printed on the last line, and exists nowhere else (only its hash is kept)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from developers.tokens import initial_token_create


class Command(BaseCommand):
    help = "Make an initial access token with which clients register at /oauth/register."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--owner", required=True, help="Username: clients join their team.")
        parser.add_argument("--max-clients", type=int, default=1)
        parser.add_argument("--expires-in", type=int, default=86400, help="Seconds.")
        parser.add_argument("--live", action="store_true", help="Clients are live, unreviewed.")

    def handle(self, *args: Any, **options: Any) -> None:
        owner = get_user_model().objects.filter(username=options["owner"]).first()
        if owner is None:
            raise CommandError(f"No person has the username {options['owner']!r}.")
        if options["max_clients"] < 1 or options["expires_in"] < 1:
            raise CommandError("--max-clients and --expires-in must be positive.")
        token, value = initial_token_create(
            owner_id=owner.pk,
            max_clients=options["max_clients"],
            expires_in=timedelta(seconds=options["expires_in"]),
            live=options["live"],
        )
        self.stdout.write(
            f"For {owner.get_username()}: up to {token.max_clients} client(s), "
            f"until {token.expires_at:%Y-%m-%d %H:%M} UTC, "
            f"{'live' if token.live else 'in development'}. Shown once:"
        )
        self.stdout.write(value)
