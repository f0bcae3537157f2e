"""The operator's overview: thirty days of security events, counted by day.

PostgreSQL does the counting (`GROUP BY` day over the index on kind and time); only the sums
come back. The days before today are counted once a day and kept in the shared cache, so a look
at the overview scans only today's events, however many the month holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.cache import cache
from django.db.models import Count
from django.db.models.fields.json import KT
from django.db.models.functions import TruncDate
from django.utils import timezone

from .models import SecurityEvent

Kind = SecurityEvent.Kind
DAYS = 30
SIGN_IN_METHODS = ("password", "google", "naver", "kakao")
TOP_CLIENTS = 10
ROLL_UP_KEPT = 26 * 3600  # seconds: a day's roll-up outlives its day
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
    midnight = datetime.combine(today, time.min, tzinfo=timezone.get_current_timezone())
    past_rows, past_clients = past_counts(since, midnight)
    rows, clients = event_counts(midnight, None)
    for kind, day, method, limit, count in [*past_rows, *rows]:
        if day not in index:
            continue  # a clock ahead of the database's
        if kind == Kind.SIGN_IN:
            if method in found.sign_ins:
                found.sign_ins[method][index[day]] += count
        elif kind != Kind.RATE_LIMITED or limit in SIGN_IN_LIMITS:
            series[Kind(kind)][index[day]] += count
    for client, count in past_clients.items():
        clients[client] = clients.get(client, 0) + count
    found.top_clients = busiest(clients)
    return found


Rows = list[tuple[str, date, str | None, str | None, int]]


def past_counts(since: datetime, midnight: datetime) -> tuple[Rows, dict[int, int]]:
    """The days before today no longer change: counted once a day and kept in the shared cache
    (a daily roll-up), so that a look at the overview counts only today's events."""
    key = f"events:overview:{since.date().isoformat()}:{midnight.date().isoformat()}"
    found: tuple[Rows, dict[int, int]] | None = cache.get(key)
    if found is None:
        found = event_counts(since, midnight)
        cache.set(key, found, ROLL_UP_KEPT)
    return found


def event_counts(since: datetime, until: datetime | None) -> tuple[Rows, dict[int, int]]:
    """Events counted by kind, day, sign-in method and limit; tokens counted by client."""
    events = SecurityEvent.objects.filter(created_at__gte=since)
    if until is not None:
        events = events.filter(created_at__lt=until)
    rows = list(
        events.filter(kind__in=COUNTED)
        .annotate(
            day=TruncDate("created_at"), method=KT("detail__method"), limit=KT("detail__limit")
        )  # fmt: skip
        .values_list("kind", "day", "method", "limit")
        .annotate(count=Count("*"))
        .order_by()
    )
    by_client = dict(
        events.filter(kind__in=[Kind.TOKENS_ISSUED, Kind.TOKENS_REFRESHED], client__isnull=False)
        .values_list("client_id")
        .annotate(count=Count("*"))
        .order_by()
    )
    return rows, by_client


def busiest(counts: dict[int, int]) -> list[tuple[str, str, int]]:
    """The clients with most tokens: name, client_id and count, busiest first."""
    top = sorted(counts.items(), key=lambda item: -item[1])[:TOP_CLIENTS]
    clients = SecurityEvent._meta.get_field("client").related_model
    named = clients._default_manager.filter(pk__in=[pk for pk, _ in top]).values_list(
        "pk", "name", "client_id"
    )
    names = {pk: (name, client_id) for pk, name, client_id in named}
    return sorted(
        ((*names[pk], count) for pk, count in top if pk in names), key=lambda r: (-r[2], r[0])
    )
