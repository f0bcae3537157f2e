"""`manage.py logoutworker`: delivers what must reach others after a person's session or account
ends (back-channel logout tokens, Kakao unlinks), retrying with growing waits; runs beside the
server (`make run` starts it; production: docs/operating.md)."""

from __future__ import annotations

import signal
import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from accounts.unlinks import provider_unlinks_run
from oauth.backchannel import logout_deliveries_run


class Command(BaseCommand):
    help = "Deliver back-channel logout tokens and provider unlinks, with retries."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="One pass, then exit.")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between passes.")

    def handle(self, *args: Any, once: bool = False, interval: float = 1.0, **options: Any) -> None:
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while not stopping:
            try:
                logout_deliveries_run()
                provider_unlinks_run()
            except DatabaseError as error:  # the database away for a moment: try again later
                self.stderr.write(f"logoutworker: {error}")
            if once:
                return
            time.sleep(max(0.1, interval))
            close_old_connections()  # as after a request: a broken or aged connection goes
