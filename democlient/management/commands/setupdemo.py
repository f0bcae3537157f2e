"""Create (or refresh) the demo person and the demo client for `make run`."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.management.base import BaseCommand

from accounts.models import User
from democlient.oauth import CLIENT_ID, SCOPE
from oauth.models import Client


class Command(BaseCommand):
    help = "Create the demo user and demo client; the user gets a new password each time."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, port: int, **options: Any) -> None:
        password = secrets.token_urlsafe(9)
        user, _ = User.objects.get_or_create(
            username="demo",
            defaults={
                "email": "demo@example.com",
                "email_verified": True,
                "first_name": "Demo",
                "last_name": "Person",
            },
        )
        user.set_password(password)
        user.save()
        Client.objects.update_or_create(
            client_id=CLIENT_ID,
            defaults={
                "name": "Demo client",
                "client_type": Client.Type.PUBLIC,
                "redirect_uris": [
                    f"http://127.0.0.1:{port}/demo/callback",
                    f"http://localhost:{port}/demo/callback",
                ],
                "allowed_scopes": SCOPE,
            },
        )
        self.stdout.write(
            "\n"
            f"  Demo client:  http://localhost:{port}/demo/\n"
            f"  Sign in as:   demo / {password}\n"
            f"  Discovery:    http://127.0.0.1:{port}/.well-known/openid-configuration\n"
            "\n"
        )
