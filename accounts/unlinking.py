"""A provider tells us a person unlinked our service (Kakao's unlink webhook, Naver's unlink
callback): the notice is recorded first, so that nothing is lost if the work fails, and then
done: the identity link goes, every session that signed in through it ends (as a sign-out does,
so apps are told by back-channel logout), and an account left with no way to sign in loses
every grant and consent, so no app keeps acting for a person who has left. The notice stays
with the account, and its page tells the person what happened and how to get back in.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, transaction
from django.utils import timezone

from events.recording import Kind, event_record
from infra.origin import NOWHERE, Origin
from infra.untrusted import printable
from oauth.connected_apps import connected_apps_end_all

from .models import SocialIdentity, UnlinkNotice, User
from .sessions import sessions_end, sessions_through

log = logging.getLogger("accounts.unlinking")


def unlink_notice_record(*, provider: str, uid: str, reason: str) -> UnlinkNotice:
    """The durable record, before any work: one INSERT."""
    return UnlinkNotice.objects.create(provider=provider, uid=uid, reason=printable(reason, 64))


def unlink_notice_settle(notice: UnlinkNotice, *, origin: Origin = NOWHERE) -> bool:
    """Do what the notice asks, once; False (logged) when the database failed, the notice then
    waiting for `unlink_notices_settle`."""
    try:
        _settle(notice.pk, origin)
    except DatabaseError:
        log.exception("unlink notice %s not settled yet", notice.pk)
        return False
    return True


def unlink_notices_settle(*, origin: Origin = NOWHERE) -> int:
    """Every notice not settled yet (after a failure), oldest first."""
    pending = UnlinkNotice.objects.filter(settled_at__isnull=True).order_by("received_at")
    return sum(unlink_notice_settle(notice, origin=origin) for notice in pending)


def _settle(notice_id: int, origin: Origin) -> None:
    with transaction.atomic():
        notice = UnlinkNotice.objects.select_for_update().filter(pk=notice_id).first()
        if notice is None or notice.settled_at is not None:
            return  # settled meanwhile, by a retry
        identity = (
            SocialIdentity.objects.select_for_update()
            .filter(provider=notice.provider, uid=notice.uid)
            .first()
        )
        user_id, sessions_ended, grants_ended = None, 0, None
        if identity is not None:
            # The account's row first, as identity_unlink does: an unlink by the person at the
            # same moment must see this one.
            user = User.objects.select_for_update().get(pk=identity.user_id)
            user_id = user.pk
            identity.delete()
            through = sessions_through(user=user, provider=notice.provider, uid=notice.uid)
            if through:
                ended = sessions_end(user=user, sids=through, origin=origin, reason="unlink")
                sessions_ended = len(ended)
            others = SocialIdentity.objects.filter(user=user).exists()
            notice.user, notice.no_way_in = user, not others and not user.has_usable_password()
            if notice.no_way_in:
                grants_ended = connected_apps_end_all(user=user, origin=origin, forget_consent=True)
        notice.settled_at = timezone.now()
        notice.save(update_fields=["settled_at", "user", "no_way_in"])
        event_record(
            Kind.IDENTITY_UNLINKED, origin=origin, user_id=user_id, provider=notice.provider,
            reason=notice.reason, by="provider", known=identity is not None,
            sessions_ended=sessions_ended, grants_ended=grants_ended,
        )  # fmt: skip


def unlink_notices_unread(user: User) -> list[UnlinkNotice]:
    """What the account page has to tell the person, until they dismiss it."""
    notices = UnlinkNotice.objects.filter(user=user, dismissed_at__isnull=True)
    return list(notices.order_by("received_at"))


def unlink_notice_dismiss(*, user: User, notice_id: int) -> bool:
    return bool(
        UnlinkNotice.objects.filter(pk=notice_id, user=user, dismissed_at__isnull=True).update(
            dismissed_at=timezone.now()
        )
    )
