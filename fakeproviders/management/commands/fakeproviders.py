"""`manage.py fakeproviders`: fake Google, Naver and Kakao on loopback, so a developer can click
through sign-in with an upstream provider with no internet and no real accounts.

A thin shell over the fakeproviders package, the same fakes the test suite drives; the command
exists only with DEBUG on, where settings install the package as an app. Run it in one terminal
and the server in another, pointed at it:

    python manage.py fakeproviders --port 8100
    env $(python manage.py fakeproviders --env --port 8100) make run
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fakeproviders import FakeProviders


class Command(BaseCommand):
    help = "Serve local fakes of Google, Naver and Kakao sign-in, and print the settings for them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8100)
        parser.add_argument(
            "--env",
            action="store_true",
            help="Only print the settings as KEY=value pairs on one line, for `env $(…)`; "
            "do not serve.",
        )
        parser.add_argument(
            "--quiet",
            action="store_true",
            help="Do not print the settings (for `make run FAKES=1`, which sets them itself).",
        )

    def handle(self, *args: Any, port: int, env: bool, quiet: bool, **options: Any) -> None:
        if not 0 < port < 65536:
            raise CommandError("--port must be between 1 and 65535.")
        fakes = FakeProviders(port=port, verbose=True)
        if env:
            # `env $(…)` splits on whitespace and cannot unquote, so no value may contain any;
            # Kakao's scopes are written comma-separated, as Kakao's own documentation does.
            values = fakes.settings()
            values["KAKAO_SCOPES"] = ",".join(values["KAKAO_SCOPES"].split())
            self.stdout.write(" ".join(f"{key}={value}" for key, value in values.items()))
            return
        try:
            fakes.start()
        except OSError as error:
            raise CommandError(f"Cannot listen on 127.0.0.1:{port}: {error}") from None
        self.stdout.write(
            f"Fake Google, Naver and Kakao at {fakes.url} (local fakes for development: no real"
            " accounts, nothing leaves this computer; each sign-in asks you to approve as the"
            " test user)."
        )
        if not quiet:
            self.stdout.write("Point the server at them with:\n")
            for key, value in fakes.settings().items():
                self.stdout.write(f"export {key}='{value}'")
            self.stdout.write("\nServing until Ctrl-C.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")
        finally:
            fakes.stop()
