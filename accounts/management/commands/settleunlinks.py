"""`manage.py settleunlinks`: settle the unlink notices whose work failed when they arrived."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from accounts.unlinking import unlink_notices_settle


class Command(BaseCommand):
    help = "Settle unlink notices from Kakao and Naver that are recorded but not settled yet."

    def handle(self, *args: Any, **options: Any) -> None:
        settled = unlink_notices_settle()
        self.stdout.write(f"{settled} unlink notices settled.")
