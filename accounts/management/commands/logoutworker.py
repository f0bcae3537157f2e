"""`manage.py logoutworker`: delivers what must reach others after a person's session or account
ends (back-channel logout tokens, Kakao unlinks), retrying with growing waits; runs beside the
server (`make run` starts it; production: docs/operating.md). Once an hour it also forgets what
is long done: deliveries and sessions that ended more than 30 days ago."""

from __future__ import annotations

import signal
import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from accounts.models import ProviderUnlink
from accounts.sessions import sessions_clear
from accounts.unlinks import provider_unlinks_run
from infra.outbox import outbox_clear
from oauth.backchannel import logout_deliveries_clear, logout_deliveries_run

CLEAR_INTERVAL = 3600  # seconds


def clear() -> None:
    logout_deliveries_clear()
    outbox_clear(ProviderUnlink)
    sessions_clear()


class Command(BaseCommand):
    help = "Deliver back-channel logout tokens and provider unlinks, with retries."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="One pass, then exit.")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between passes.")

    def handle(self, *args: Any, once: bool = False, interval: float = 1.0, **options: Any) -> None:
        stopping = False
        cleared: float | None = None  # clear on the first pass, then hourly

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while not stopping:
            try:
                logout_deliveries_run()
                provider_unlinks_run()
                if cleared is None or time.monotonic() - cleared > CLEAR_INTERVAL:
                    clear()
                    cleared = time.monotonic()
            except DatabaseError as error:  # the database away for a moment: try again later
                self.stderr.write(f"logoutworker: {error}")
            if once:
                return
            time.sleep(max(0.1, interval))
            close_old_connections()  # as after a request: a broken or aged connection goes
