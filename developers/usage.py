"""An app's use over the last 30 days, from what the token flows record already: each
authorization starts a grant, and each token response (code exchange or refresh) adds a
refresh token to one. Counting reads these rows; the token endpoint does nothing more."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from oauth.models import Client, Grant, RefreshToken

DAYS = 30


@dataclass(frozen=True)
class Day:
    day: date
    authorizations: int
    token_requests: int


def usage_days(client: Client, *, days: int = DAYS) -> list[Day]:
    """One entry per day, oldest first, today (UTC) last; days without use count zero."""
    today = timezone.now().astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, time.min, tzinfo=UTC)
    grants = _per_day(Grant.objects.filter(client=client, created_at__gte=since))
    tokens = _per_day(RefreshToken.objects.filter(grant__client=client, created_at__gte=since))
    return [
        Day(day, grants.get(day, 0), tokens.get(day, 0))
        for day in (first + timedelta(days=n) for n in range(days))
    ]


def _per_day(rows: object) -> dict[date, int]:
    counted = (
        rows.annotate(day=TruncDate("created_at"))  # type: ignore[attr-defined]
        .values("day")
        .annotate(count=Count("pk"))
        .values_list("day", "count")
    )
    return dict(counted)


def people_with_active_grants(client: Client) -> int:
    return Grant.objects.active().filter(client=client).values("user").distinct().count()


@dataclass(frozen=True)
class Chart:
    """A small bar chart with a line over it, in the SVG's own units (drawn by a template)."""

    width: int
    height: int
    bars: list[tuple[float, float, float, float, Day]]  # x, y, width, height, the day
    line: str  # polyline points
    top: int


def chart(days: list[Day], *, width: int = 600, height: int = 160) -> Chart:
    """Token requests as bars, authorizations as a line, on one scale from zero."""
    top = max([1, *(d.token_requests for d in days), *(d.authorizations for d in days)])
    step = width / max(1, len(days))

    def y(value: int) -> float:
        return round(height - value * height / top, 1)

    bars = [
        (round(i * step + 1, 1), y(d.token_requests), round(step - 2, 1),
         round(height - y(d.token_requests), 1), d)
        for i, d in enumerate(days)
    ]  # fmt: skip
    line = " ".join(
        f"{round(i * step + step / 2, 1)},{y(d.authorizations)}" for i, d in enumerate(days)
    )
    return Chart(width, height, bars, line, top)
