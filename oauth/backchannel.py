"""OpenID Connect Back-Channel Logout 1.0: when a sign-in session ends, every client that got
tokens in it (its grants carry the session's `sid`) and registered a `backchannel_logout_uri`
receives a logout token by POST.

Delivery is the worker's (`manage.py logoutworker`, infra/outbox.py): the ending of a session
only writes a row, so the person's logout never waits on a client. Each attempt is bounded in
time (infra/outbound.py); one that fails is retried with growing waits, and a client that stops
answering is a security event.
"""

from __future__ import annotations

import secrets
from typing import Any

import requests
from django.conf import settings
from django.utils import timezone
from joserfc import jwt

from events.recording import Kind, event_record
from infra.outbound import AnswerTooLarge, BoundedSession
from infra.outbox import NotDelivered, outbox_clear, outbox_run

from .keys import active_signing_key
from .models import Grant, LogoutDelivery
from .people import Person

LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_LIFETIME = 120  # seconds (§2.4: short)
DELIVERY_TIMEOUT = 5  # seconds per attempt


def session_ended(*, user: Person, sid: str) -> int:
    """Queue a logout token for each client that got tokens in session `sid` (one per client,
    whatever its number of grants). For the sign-in side, as it ends a session."""
    if not sid:
        return 0
    clients = (
        Grant.objects.filter(user_id=user.pk, sid=sid)
        .exclude(client__backchannel_logout_uri="")
        .filter(client__is_active=True)
        .values_list("client_id", flat=True)
        .distinct()
    )
    rows = [
        LogoutDelivery(client_id=client_id, jti=secrets.token_urlsafe(16), sub=user.sub, sid=sid)
        for client_id in clients
    ]
    LogoutDelivery.objects.bulk_create(rows)
    return len(rows)


def logout_token(delivery: LogoutDelivery) -> str:
    """§2.4: iss, aud, iat, exp, jti, sub, sid and the events member; no nonce; typed
    logout+jwt (§2.4, as the 2023 errata ask), signed as id_tokens are."""
    now = int(timezone.now().timestamp())
    claims: dict[str, Any] = {
        "iss": settings.ISSUER,
        "aud": delivery.client.client_id,
        "iat": now,
        "exp": now + LOGOUT_TOKEN_LIFETIME,
        "jti": delivery.jti,
        "sub": delivery.sub,
        "events": {LOGOUT_EVENT: {}},
    }
    if delivery.sid:
        claims["sid"] = delivery.sid
    header = {"alg": settings.ID_TOKEN_ALGORITHM, "typ": "logout+jwt"}
    return jwt.encode(header, claims, active_signing_key(settings.ID_TOKEN_ALGORITHM))


def logout_deliver(delivery: LogoutDelivery) -> None:
    """§2.5: POSTed as a form; a 200 (or 204) says the client has it. A client disabled or
    unregistered meanwhile is not sent anything more."""
    uri = delivery.client.backchannel_logout_uri
    if not uri or not delivery.client.is_active:
        return
    try:
        with BoundedSession() as session:
            answer = session.post(
                uri, data={"logout_token": logout_token(delivery)}, timeout=DELIVERY_TIMEOUT
            )
    except (requests.RequestException, AnswerTooLarge) as error:
        raise NotDelivered(type(error).__name__) from None
    if answer.status_code not in (200, 204):
        raise NotDelivered(f"HTTP {answer.status_code}")


def logout_deliveries_run() -> int:
    """One pass of the worker over the due deliveries; the number delivered."""
    return outbox_run(LogoutDelivery, logout_deliver, given_up=_given_up)


def logout_deliveries_clear() -> int:
    """Forget the deliveries done with long ago (infra/outbox.py's KEPT)."""
    return outbox_clear(LogoutDelivery)


def _given_up(delivery: LogoutDelivery) -> None:
    event_record(Kind.LOGOUT_UNDELIVERED, client_id=delivery.client_id,
                 attempts=delivery.attempts, sid=delivery.sid)  # fmt: skip
