"""Register an OAuth client from the command line; prints its credentials as JSON."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from oauth.clients import client_create


class Command(BaseCommand):
    help = "Register a client. The secret is printed once and stored only as a hash."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--redirect-uri",
            action="append",
            required=True,
            dest="redirect_uris",
            help="Repeat for several. Exact match; https, or http on a loopback host.",
        )
        parser.add_argument("--public", action="store_true", help="No secret; PKCE required.")
        parser.add_argument("--first-party", action="store_true", help="Skip the consent page.")
        parser.add_argument(
            "--native",
            action="store_true",
            help="One of our own mobile apps: may exchange an upstream provider's SDK sign-in "
            "for tokens. Needs --public and --first-party.",
        )
        parser.add_argument("--scope", default=None, help='Allowed scopes, e.g. "openid profile".')
        parser.add_argument(
            "--post-logout-redirect-uri",
            action="append",
            default=[],
            dest="post_logout_redirect_uris",
            help="Where the app may send people after signing them out here. Repeat for several.",
        )
        parser.add_argument(
            "--backchannel-logout-uri",
            default="",
            help="Where logout tokens are POSTed when a session the app got tokens in ends.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            client, secret = client_create(
                name=options["name"],
                redirect_uris=options["redirect_uris"],
                public=options["public"],
                first_party=options["first_party"],
                native=options["native"],
                scope=options["scope"],
                post_logout_redirect_uris=options["post_logout_redirect_uris"],
                backchannel_logout_uri=options["backchannel_logout_uri"],
            )
        except ValidationError as error:
            messages = "; ".join(
                f"{field}: {' '.join(errors)}" for field, errors in error.message_dict.items()
            )
            raise CommandError(messages) from None
        credentials = {
            "client_id": client.client_id,
            "client_type": client.client_type,
            "redirect_uris": client.redirect_uris,
            "scope": client.allowed_scopes,
            "native": client.native,
        }
        if client.post_logout_redirect_uris:
            credentials["post_logout_redirect_uris"] = client.post_logout_redirect_uris
        if client.backchannel_logout_uri:
            credentials["backchannel_logout_uri"] = client.backchannel_logout_uri
        if secret is not None:
            credentials["client_secret"] = secret
        self.stdout.write(json.dumps(credentials, indent=2))
