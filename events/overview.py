"""The operator's overview: thirty days of security events, counted by day in two queries.

PostgreSQL does the counting (`GROUP BY` day over the index on kind and time), so the page costs
the same whether the table holds a thousand events or millions; only the sums come back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count
from django.db.models.fields.json import KT
from django.db.models.functions import TruncDate
from django.utils import timezone

from .models import SecurityEvent

Kind = SecurityEvent.Kind
DAYS = 30
SIGN_IN_METHODS = ("password", "google", "naver", "kakao")
TOP_CLIENTS = 10
# Limits that hold back sign-ins: what, on a server that never locks an account, stands for a
# lockout (accounts/throttling.py).
SIGN_IN_LIMITS = ("sign_in_account", "sign_in_address", "sign_in_device")
COUNTED = [
    Kind.SIGN_IN, Kind.SIGN_IN_FAILED, Kind.TOKENS_ISSUED, Kind.TOKENS_REFRESHED,
    Kind.REFRESH_TOKEN_REUSED, Kind.RATE_LIMITED,
]  # fmt: skip


@dataclass
class Overview:
    days: list[date]
    sign_ins: dict[str, list[int]] = field(default_factory=dict)  # method → per day
    tokens_issued: list[int] = field(default_factory=list)  # code exchanges
    tokens_refreshed: list[int] = field(default_factory=list)
    sign_ins_failed: list[int] = field(default_factory=list)
    sign_ins_held: list[int] = field(default_factory=list)  # sign-in rate limits reached
    refresh_reuse: list[int] = field(default_factory=list)
    top_clients: list[tuple[str, str, int]] = field(default_factory=list)  # name, id, count


def overview_compute(today: date | None = None) -> Overview:
    """The thirty days up to `today` (UTC), today included."""
    today = today or timezone.now().date()
    days = [today - timedelta(days=DAYS - 1 - n) for n in range(DAYS)]
    since = datetime.combine(days[0], time.min, tzinfo=timezone.get_current_timezone())
    index = {day: n for n, day in enumerate(days)}

    def zeros() -> list[int]:
        return [0] * DAYS

    found = Overview(days, sign_ins={method: zeros() for method in SIGN_IN_METHODS})
    series = {
        Kind.TOKENS_ISSUED: found.tokens_issued,
        Kind.TOKENS_REFRESHED: found.tokens_refreshed,
        Kind.SIGN_IN_FAILED: found.sign_ins_failed,
        Kind.REFRESH_TOKEN_REUSED: found.refresh_reuse,
        Kind.RATE_LIMITED: found.sign_ins_held,
    }
    for values in series.values():
        values.extend(zeros())
    counts = (
        SecurityEvent.objects.filter(kind__in=COUNTED, created_at__gte=since)
        .annotate(
            day=TruncDate("created_at"), method=KT("detail__method"), limit=KT("detail__limit")
        )  # fmt: skip
        .values_list("kind", "day", "method", "limit")
        .annotate(count=Count("*"))
        .order_by()
    )
    for kind, day, method, limit, count in counts:
        if day not in index:
            continue  # a clock ahead of the database's
        if kind == Kind.SIGN_IN:
            if method in found.sign_ins:
                found.sign_ins[method][index[day]] += count
        elif kind != Kind.RATE_LIMITED or limit in SIGN_IN_LIMITS:
            series[kind][index[day]] += count
    busiest = (
        SecurityEvent.objects.filter(
            kind__in=[Kind.TOKENS_ISSUED, Kind.TOKENS_REFRESHED],
            created_at__gte=since,
            client__isnull=False,
        )
        .values_list("client__name", "client__client_id")
        .annotate(count=Count("*"))
        .order_by("-count", "client__name")[:TOP_CLIENTS]
    )
    found.top_clients = [(name, client_id, count) for name, client_id, count in busiest]
    return found
