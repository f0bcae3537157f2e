"""Review before an app goes live: the team asks, an operator approves (the app goes live) or
rejects with a reason the team sees."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from infra.origin import NOWHERE, Origin
from oauth.clients import client_update
from oauth.models import Client

from .models import ReviewRequest
from .team import UserId

State = ReviewRequest.State


class ReviewRefused(Exception):
    """A request for review that cannot be made now; its message is for the person."""


def review_request(*, client: Client, user_id: UserId, note: str = "") -> ReviewRequest:
    if client.live:
        raise ReviewRefused(_("This app is live already."))
    try:
        with transaction.atomic():
            return ReviewRequest.objects.create(client=client, requested_by_id=user_id, note=note)
    except IntegrityError:  # review_one_pending_per_client
        raise ReviewRefused(_("This app is waiting for review already.")) from None


def review_latest(client: Client) -> ReviewRequest | None:
    return ReviewRequest.objects.filter(client=client).order_by("-requested_at").first()


def review_decide(
    review: ReviewRequest,
    *,
    approve: bool,
    reason: str,
    actor_id: UserId | None,
    origin: Origin = NOWHERE,
) -> None:
    """Approval makes the app live at once, everywhere (client_update moves the clients'
    stamp); the decision is taken once."""
    with transaction.atomic():
        decided = ReviewRequest.objects.filter(pk=review.pk, state=State.PENDING).update(
            state=State.APPROVED if approve else State.REJECTED,
            decided_by_id=actor_id,
            decided_at=timezone.now(),
            reason=reason,
        )
        if decided and approve:
            client = Client.objects.get(pk=review.client_id)
            client.live = True
            client_update(client, fields=["live"], origin=origin, actor_id=actor_id)
    review.refresh_from_db()
