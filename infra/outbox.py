"""Deliveries that must happen but must keep no one waiting (back-channel logout tokens, a
provider's unlink): a row written in the same transaction as the change that calls for it, sent
by the worker (`manage.py logoutworker`) with growing waits between attempts.

A worker claims due rows for LEASE seconds in a short transaction (SKIP LOCKED: several workers
share the work), sends outside it, then records the outcome; a worker that dies mid-way leaves
its rows to be claimed again when the lease runs out. A row is sent until it is delivered, and
never again after; after ATTEMPTS failures it is given up, which the caller records.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

log = logging.getLogger("infra.outbox")

FIRST_WAIT = 5  # seconds; then 10, 20, … up to LONGEST_WAIT
LONGEST_WAIT = 3600
ATTEMPTS = 12  # about four hours of trying
LEASE = 120  # seconds a claimed row is left to its worker
BATCH = 20
KEPT = timedelta(days=30)  # how long delivered and given-up rows stay, for operators to look


class OutboxRow(models.Model):
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    next_attempt_at = models.DateTimeField(default=timezone.now, verbose_name=_("next attempt at"))
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    delivered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("delivered at"))
    given_up_at = models.DateTimeField(null=True, blank=True, verbose_name=_("given up at"))
    last_error = models.CharField(max_length=200, blank=True, verbose_name=_("last error"))

    class Meta:
        abstract = True
        # What the worker looks for: rows still to send, by when they are due.
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(delivered_at__isnull=True, given_up_at__isnull=True),
                name="%(app_label)s_%(class)s_due",
            )
        ]


Row = TypeVar("Row", bound=OutboxRow)


class NotDelivered(Exception):
    """The receiver was unreachable, too slow, or did not accept: worth another attempt."""


def next_wait(attempts: int) -> timedelta:
    return timedelta(seconds=min(LONGEST_WAIT, FIRST_WAIT * 2 ** max(0, attempts - 1)))


def outbox_run(
    model: type[Row],
    send: Callable[[Row], None],
    *,
    given_up: Callable[[Row], None],
    now: datetime | None = None,
) -> int:
    """Send the due rows of `model` once each; the number delivered."""
    now = now or timezone.now()
    due = model._default_manager.filter(
        delivered_at__isnull=True, given_up_at__isnull=True, next_attempt_at__lte=now
    )
    with transaction.atomic():
        ids = list(
            due.select_for_update(skip_locked=True)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:BATCH]
        )
        model._default_manager.filter(pk__in=ids).update(
            next_attempt_at=now + timedelta(seconds=LEASE)
        )
    delivered = 0
    for row in model._default_manager.filter(pk__in=ids).order_by("pk"):
        try:
            send(row)
        except NotDelivered as error:
            _failed(model, row, str(error), given_up)
        else:
            model._default_manager.filter(pk=row.pk).update(
                delivered_at=timezone.now(), last_error=""
            )
            delivered += 1
    return delivered


def outbox_clear(model: type[Row], *, now: datetime | None = None) -> int:
    """Delete the rows done with (delivered or given up) more than KEPT ago."""
    before = (now or timezone.now()) - KEPT
    done = models.Q(delivered_at__lt=before) | models.Q(given_up_at__lt=before)
    deleted, _ = model._default_manager.filter(done).delete()
    return deleted


def _failed(model: type[Row], row: Row, error: str, given_up: Callable[[Row], None]) -> None:
    attempts = row.attempts + 1
    now = timezone.now()
    fields: dict[str, object] = {"attempts": attempts, "last_error": error[:200]}
    if attempts >= ATTEMPTS:
        fields["given_up_at"] = now
    else:
        fields["next_attempt_at"] = now + next_wait(attempts)
    model._default_manager.filter(pk=row.pk).update(**fields)
    log.warning("%s %s not delivered (attempt %d): %s", model.__name__, row.pk, attempts, error)
    if attempts >= ATTEMPTS:
        row.attempts = attempts
        given_up(row)
