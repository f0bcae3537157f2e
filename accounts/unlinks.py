"""Telling Kakao that a person's link to this service is gone (they withdrew, or unlinked Kakao on
their account page): its unlink API, called with the app's admin key (`KAKAO_ADMIN_KEY`),
durably, by the worker; never while the person waits. Without an admin key nothing is queued
(the person can unlink at Kakao themselves)."""

from __future__ import annotations

from collections.abc import Iterable

import requests
from django.conf import settings

from events.recording import Kind, event_record
from infra.outbound import AnswerTooLarge, BoundedSession
from infra.outbox import NotDelivered, outbox_run

from .models import ProviderUnlink, SocialIdentity, User


def provider_unlinks_queue(*, user: User) -> int:
    """In the withdrawal's transaction."""
    return provider_unlink_queue(identities=user.identities.all())


def provider_unlink_queue(*, identities: Iterable[SocialIdentity]) -> int:
    """In the transaction that removes `identities`: a row for each Kakao one. Naver is not
    told: its revoke needs a Naver token, and none is kept (providers.md §6.3)."""
    if not settings.KAKAO_ADMIN_KEY:
        return 0
    rows = [
        ProviderUnlink(provider=identity.provider, uid=identity.uid)
        for identity in identities
        if identity.provider == SocialIdentity.Provider.KAKAO
    ]
    ProviderUnlink.objects.bulk_create(rows)
    return len(rows)


def kakao_unlink(row: ProviderUnlink) -> None:
    """POST /v1/user/unlink as the app (`KakaoAK` admin key), naming the person by user id."""
    if not settings.KAKAO_ADMIN_KEY:
        raise NotDelivered("KAKAO_ADMIN_KEY is no longer set")
    try:
        with BoundedSession() as session:
            answer = session.post(
                settings.KAKAO_UNLINK_URL,
                data={"target_id_type": "user_id", "target_id": row.uid},
                headers={"Authorization": f"KakaoAK {settings.KAKAO_ADMIN_KEY}"},
                timeout=settings.UPSTREAM_TIMEOUT,
            )
    except (requests.RequestException, AnswerTooLarge) as error:
        raise NotDelivered(type(error).__name__) from None
    if answer.status_code != 200:
        raise NotDelivered(f"HTTP {answer.status_code}")


def provider_unlinks_run() -> int:
    return outbox_run(ProviderUnlink, kakao_unlink, given_up=_given_up)


def _given_up(row: ProviderUnlink) -> None:
    event_record(Kind.UNLINK_UNDELIVERED, provider=row.provider, attempts=row.attempts)
