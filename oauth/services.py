"""The flows that write: issuing and exchanging codes, rotating refresh tokens, revoking grants,
remembering consent, clearing what has expired.

Single use is left to the database, so that of two racing requests exactly one wins without a
lock held across the request: a code is used up by inserting its grant (a unique column), a
refresh token by a conditional UPDATE (`... WHERE used_at IS NULL`).

The token flows' statements are in rows.py: on PostgreSQL each token response writes its rows
and its security event in one statement, so it is all or nothing without spending round trips
on BEGIN and COMMIT.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from events.recording import Identifier, Kind, event_record, security_event
from infra import metrics
from infra.origin import NOWHERE, Origin
from infra.rows import insert

from . import retries, rows
from .hashing import secret_hash
from .models import (
    AuthorizationCode,
    Client,
    Consent,
    Grant,
    RefreshToken,
    refresh_token_expiry,
)
from .people import Person
from .scopes import scope_list, scope_string

security_log = logging.getLogger("oauth.security")


class CodeReplayed(Exception):
    """The authorization code was already exchanged (RFC 6749 §4.1.2)."""


class CodeGone(Exception):
    """The authorization code expired, or was voided or cleared, while it was being used."""


class RefreshTokenReused(Exception):
    """A concurrent request with the same refresh token rotated it first. The token then holds
    what that request wrote: its used mark and, within the grace, its answer."""


def code_create(
    *,
    code: str,
    client: Client,
    user: Person,
    redirect_uri: str,
    scope: str,
    nonce: str,
    code_challenge: str,
    code_challenge_method: str,
    auth_time: int,
    sid: str = "",
) -> AuthorizationCode:
    now = timezone.now()
    return insert(
        AuthorizationCode(
            code_hash=secret_hash(code),
            client=client,
            user_id=user.pk,
            redirect_uri=redirect_uri,
            scope=scope,
            nonce=nonce,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            auth_time=datetime.fromtimestamp(auth_time, tz=UTC),
            sid=sid,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.AUTHORIZATION_CODE_LIFETIME),
        )
    )


def code_find(*, code: str, client: Client, origin: Origin = NOWHERE) -> AuthorizationCode | None:
    """The unexpired code issued to `client`. A code already used is a replay, expired or not:
    its grant is revoked as long as the code is kept (see tokens_clear)."""
    found = rows.code_with_grant(secret_hash(code), client.pk)
    if found is None:
        return None
    found.client = client  # the row matched it; no need to load it again
    if found.issued_grant is not None:
        code_replay_detected(code=found, origin=origin)
        return None
    return None if found.is_expired else found


def code_exchange(
    *,
    code: AuthorizationCode,
    grant_id: uuid.UUID,
    refresh_token: str | None,
    origin: Origin = NOWHERE,
) -> Grant:
    """Use up the code by starting its grant, with the grant's first refresh token."""
    now = timezone.now()
    grant = Grant(
        id=grant_id,
        user_id=code.user_id,
        client_id=code.client_id,
        scope=code.scope,
        auth_time=code.auth_time,
        sid=code.sid,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.REFRESH_TOKEN_ABSOLUTE_LIFETIME),
        authorization_code=code,
    )
    first_token = None
    if refresh_token is not None:
        first_token = RefreshToken(
            token_hash=secret_hash(refresh_token),
            grant=grant,
            created_at=now,
            expires_at=refresh_token_expiry(grant, code.client, now),
        )
    event = security_event(
        Kind.TOKENS_ISSUED, origin=origin, user_id=code.user_id, client_id=code.client_id,
        grant=str(grant_id), scope=code.scope,
    )  # fmt: skip
    if not rows.grant_start(grant, first_token, event):
        if not Grant.objects.filter(authorization_code=code).exists():
            raise CodeGone  # voided, expired or cleared since it was read
        # The code's grant already exists: a concurrent exchange of the same code won.
        code_replay_detected(code=code, origin=origin)
        raise CodeReplayed
    metrics.tokens_issued.labels("authorization_code").inc()
    return grant


def code_replay_detected(*, code: AuthorizationCode, origin: Origin = NOWHERE) -> None:
    """RFC 6749 §4.1.2: revoke what was issued from the code's first use."""
    grant_id = Grant.objects.filter(authorization_code=code).values_list("pk", flat=True).first()
    if grant_id is not None:
        grant_revoke(grant_id=grant_id)
    event_record(
        Kind.CODE_REPLAYED, origin=origin, user_id=code.user_id, client_id=code.client_id,
        grant=str(grant_id) if grant_id else None,
    )  # fmt: skip
    security_log.warning(
        "authorization code replayed: client=%s user=%s grant=%s revoked",
        code.client_id,
        code.user_id,
        grant_id,
    )


def refresh_token_find(
    *, refresh_token: str, client: Client, origin: Origin = NOWHERE
) -> RefreshToken | None:
    """The refresh token if it may be used now. A rotated one is theft and revokes its grant,
    unless its own client presents it again within the grace with its answer kept: a retry,
    to be answered by retries.refresh_token_retry."""
    found = rows.refresh_token_with_grant(secret_hash(refresh_token))
    if found is None:
        return None
    usable = found.grant.is_active and found.grant.user.is_active
    if found.used_at is not None:
        if usable and found.check_client(client) and retries.answer_kept(found):
            return found
        refresh_token_reuse_detected(token=found, origin=origin)
        return None
    if found.is_expired or not usable:
        return None
    return found


def refresh_token_rotate(
    *,
    old: RefreshToken,
    client: Client,
    new_token: str,
    refresh_token: str,
    answer: bytes,
    origin: Origin = NOWHERE,
) -> None:
    """Mark `old` used and add `new_token` to the same grant; only one racer can win. `answer`,
    the response body about to be sent, is kept sealed with `refresh_token` (the one presented,
    `old`'s) for retries within the grace."""
    now = timezone.now()
    successor = RefreshToken(
        token_hash=secret_hash(new_token),
        grant=old.grant,
        created_at=now,
        expires_at=refresh_token_expiry(old.grant, client, now),
    )
    event = security_event(
        Kind.TOKENS_REFRESHED, origin=origin, user_id=old.grant.user_id, client_id=client.pk,
        grant=str(old.grant_id),
    )  # fmt: skip
    sealed = None
    if retries.retry_grace():
        sealed = retries.answer_seal(refresh_token=refresh_token, row_id=old.pk, answer=answer)
    if not rows.refresh_token_rotate(old, successor, event, sealed):
        # Unused when read a moment ago, used now: a concurrent request with the same token won
        # (a retry, a second tab). Not theft: the winner's new tokens must live. Its statement
        # kept its answer with the used mark, so the answer is here now for this request to
        # share (retries.refresh_token_retry); presenting the token after the grace is reuse.
        old.used_at, old.retry_answer = (
            RefreshToken.objects.filter(pk=old.pk).values_list("used_at", "retry_answer").first()
            or (now, None)  # deleted meanwhile: its grant was revoked
        )
        raise RefreshTokenReused
    metrics.tokens_issued.labels("refresh_token").inc()


def refresh_token_reuse_detected(*, token: RefreshToken, origin: Origin = NOWHERE) -> None:
    grant_revoke(grant_id=token.grant_id)
    metrics.refresh_reuse.labels("revoked").inc()
    event_record(
        Kind.REFRESH_TOKEN_REUSED, origin=origin, user_id=token.grant.user_id,
        client_id=token.grant.client_id, grant=str(token.grant_id),
    )  # fmt: skip
    security_log.warning(
        "refresh token reused: grant=%s client=%s user=%s revoked",
        token.grant_id,
        token.grant.client_id,
        token.grant.user_id,
    )


def grant_revoke(*, grant_id: uuid.UUID) -> bool:
    """End a grant: its refresh tokens stop working and introspection calls its tokens inactive."""
    return bool(
        Grant.objects.filter(pk=grant_id, revoked_at__isnull=True).update(revoked_at=timezone.now())
    )


def grants_revoke(
    grants: Iterable[Grant], *, origin: Origin = NOWHERE, actor_id: Identifier = None
) -> int:
    """An operator ends these grants, after an incident: each one still live is revoked and
    recorded."""
    revoked = 0
    for grant in grants:
        if grant_revoke(grant_id=grant.pk):
            revoked += 1
            event_record(
                Kind.GRANTS_REVOKED, origin=origin, user_id=grant.user_id,
                client_id=grant.client_id, actor_id=actor_id, grants=1,
            )  # fmt: skip
    return revoked


def consent_covers(*, user: Person, client: Client, scope: str) -> bool:
    consent = rows.consent(user.pk, client.pk)
    return consent is not None and consent.covers(scope)


def consent_grant(*, user: Person, client: Client, scope: str, origin: Origin = NOWHERE) -> Consent:
    """Remember that `user` allowed `client` these scopes, added to what was allowed before."""
    now = timezone.now()
    with transaction.atomic():
        consent, created = Consent.objects.select_for_update().get_or_create(
            user_id=user.pk, client=client, defaults={"scope": scope, "created_at": now}
        )
        if not created:
            consent.scope = scope_string(set(scope_list(consent.scope)) | set(scope_list(scope)))
            consent.updated_at = now
            consent.save(update_fields=["scope", "updated_at"])
    event_record(
        Kind.CONSENT_GRANTED, origin=origin, user_id=user.pk, client_id=client.pk, scope=scope
    )
    return consent


def consent_withdraw(
    *, user: Person, client: Client, origin: Origin = NOWHERE, actor_id: Identifier = None
) -> int:
    """A person cuts an app off (or an operator for them, `actor_id`): its grants end at once,
    so do the codes it holds but has not exchanged yet, and consent is asked again next time."""
    revoked = grants_end(user_id=user.pk, client=client)
    Consent.objects.filter(user_id=user.pk, client=client).delete()
    event_record(
        Kind.CONSENT_REVOKED, origin=origin, user_id=user.pk, client_id=client.pk,
        actor_id=actor_id, grants=revoked,
    )  # fmt: skip
    return revoked


def grants_end(**match: Any) -> int:
    """Revoke the grants matching `match` (user, client) and void the codes matching it that
    have not been exchanged yet: they expire now. Deleting them would fail an exchange in
    flight on its foreign key; voiding them first means an exchange that starts its grant
    meanwhile (rows.grant_start locks the code) is revoked with the others."""
    now = timezone.now()
    AuthorizationCode.objects.filter(grant__isnull=True, expires_at__gt=now, **match).update(
        expires_at=now
    )
    return Grant.objects.filter(revoked_at__isnull=True, **match).update(revoked_at=now)


def tokens_clear(*, batch_size: int = 1000) -> dict[str, int]:
    """Delete what can no longer be used, in batches, so memory stays constant whatever the size
    of the tables. Used refresh tokens are kept until they expire: they are how reuse is
    recognised. Their kept answers go when the retry grace ends (never served after it anyway)."""
    now = timezone.now()
    dead_grant = Q(grant__revoked_at__isnull=False) | Q(grant__expires_at__lte=now)
    return {
        "refresh tokens": _in_batches(
            RefreshToken.objects.filter(Q(expires_at__lte=now) | dead_grant),
            batch_size,
            lambda batch: batch.delete(),
        ),
        "refresh retry answers": _in_batches(
            RefreshToken.objects.filter(
                retry_answer__isnull=False, used_at__lte=now - retries.retry_grace()
            ),
            batch_size,
            lambda batch: batch.update(retry_answer=None),
        ),
        "authorization codes": _in_batches(
            AuthorizationCode.objects.filter(expires_at__lte=now),
            batch_size,
            lambda batch: batch.delete(),
        ),
        # A grant is what marks its code used: it stays while the code could still be presented.
        "grants": _in_batches(
            Grant.objects.filter(Q(revoked_at__isnull=False) | Q(expires_at__lte=now)).exclude(
                authorization_code__expires_at__gt=now
            ),
            batch_size,
            lambda batch: batch.delete(),
        ),
    }


def _in_batches(
    queryset: QuerySet[Any], batch_size: int, act: Callable[[QuerySet[Any]], Any]
) -> int:
    """Apply `act` (delete, or clear a column) to the rows of `queryset` a batch at a time, each
    batch named by its ids: a statement by condition could take the whole table at once. Each
    batch must leave `queryset`, or this never ends."""
    done = 0
    while True:
        batch = list(queryset.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not batch:
            return done
        act(queryset.model.objects.filter(pk__in=batch))
        done += len(batch)
