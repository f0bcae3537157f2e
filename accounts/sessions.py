"""Sign-in sessions the server knows (item 7 of issue 17): one row per sign-in, listed on the
account page, ended by signing out, "sign out everywhere", a password change or reset, or
withdrawal; an ended session is over everywhere at once, since its Django session is deleted
from the store every process reads.

`last_seen_at` is written at most once per SEEN_INTERVAL per session, not on every request: the
pages stay free of writes, and the sign-in and authorization paths keep their query budgets.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from events.recording import Kind, event_record
from infra.origin import NOWHERE, Origin
from oauth.backchannel import session_ended
from oauth.sign_in import session_sid, sid_record

from .models import SignInSession, User

SEEN_SESSION_KEY = "sid_seen"
SEEN_INTERVAL = 300  # seconds
ENDED_KEPT = timedelta(days=30)


def session_start(request: HttpRequest, user: User, *, method: str, identity_uid: str = "") -> str:
    """A new row for the sign-in just made in `request` (its session key already cycled)."""
    origin = Origin.of(request)
    sid = secrets.token_urlsafe(24)
    SignInSession.objects.create(
        sid=sid,
        user=user,
        session_key=request.session.session_key or "",
        method=method,
        identity_uid=identity_uid,
        ip_address=origin.ip_address,
        user_agent=origin.user_agent,
    )
    request.session[SEEN_SESSION_KEY] = time.time()
    return sid


def sessions_end(
    *,
    user: User,
    sids: Iterable[str] | None = None,
    keep: str | None = None,
    origin: Origin = NOWHERE,
    reason: str,
) -> list[str]:
    """End `user`'s live sessions (those named by `sids`, else all but `keep`): marked ended,
    and their Django sessions deleted, so that no process honours them any more. The ended
    sids are returned."""
    live = SignInSession.objects.filter(user=user, ended_at__isnull=True)
    if sids is not None:
        live = live.filter(sid__in=list(sids))
    if keep:
        live = live.exclude(sid=keep)
    ended = list(live.values_list("sid", "session_key"))
    if not ended:
        return []
    SignInSession.objects.filter(sid__in=[sid for sid, _ in ended]).update(ended_at=timezone.now())
    store = _session_store()
    for sid, session_key in ended:
        if session_key:
            store(session_key).delete()
        session_ended(user=user, sid=sid)
    event_record(Kind.SESSIONS_ENDED, origin=origin, user_id=user.pk, reason=reason,
                 sessions=len(ended))  # fmt: skip
    return [sid for sid, _ in ended]


def sessions_through(*, user: User, provider: str, uid: str) -> list[str]:
    """The live sessions that signed in through the identity (provider, uid). One from before
    sessions knew their identity (no uid) counts when it signed in through that provider."""
    live = SignInSession.objects.filter(
        user=user, ended_at__isnull=True, method=provider, identity_uid__in=[uid, ""]
    )
    return list(live.values_list("sid", flat=True))


def session_key_changed(request: HttpRequest) -> None:
    """After Django gave the session a new key (a password change keeps the person signed in
    under a new one): the row follows it, so that ending the session still reaches it."""
    sid = session_sid(request)
    if sid and request.session.session_key:
        SignInSession.objects.filter(sid=sid).update(session_key=request.session.session_key)


def sessions_clear(*, now: datetime | None = None) -> int:
    """Forget sessions that ended more than ENDED_KEPT ago."""
    before = (now or timezone.now()) - ENDED_KEPT
    deleted, _ = SignInSession.objects.filter(ended_at__lt=before).delete()
    return deleted


def live_sessions(user: User) -> list[SignInSession]:
    return list(
        SignInSession.objects.filter(user=user, ended_at__isnull=True).order_by("-last_seen_at")
    )


def _session_store() -> Callable[[str], Any]:
    return import_module(settings.SESSION_ENGINE).SessionStore  # type: ignore[no-any-return]


@receiver(user_logged_out)
def end_on_sign_out(
    sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any
) -> None:
    """Signing out ends the session's row too (Django deletes the session itself)."""
    sid = session_sid(request) if request is not None else None
    if sid and user is not None:
        live = SignInSession.objects.filter(sid=sid, ended_at__isnull=True)
        if live.update(ended_at=timezone.now()):
            session_ended(user=user, sid=sid)


class SessionSeen:
    """Now and then (SEEN_INTERVAL), for a signed-in session: when it was last seen, and
    whether it still stands; one ended elsewhere is signed out here, the check behind the
    deletion of its Django session. A session from before sessions were known is adopted."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        if session.session_key is not None and SESSION_KEY in session:
            seen = session.get(SEEN_SESSION_KEY)
            now = time.time()
            if not isinstance(seen, float) or now - seen > SEEN_INTERVAL:
                if self.still_stands(request):
                    session[SEEN_SESSION_KEY] = now
                else:
                    logout(request)
        return self.get_response(request)

    @staticmethod
    def still_stands(request: HttpRequest) -> bool:
        user = request.user
        if not isinstance(user, User):
            return True  # no longer a person (disabled, deleted): Django has signed it out
        sid = session_sid(request)
        if sid is None:
            sid_record(request, session_start(request, user, method=""))
            return True
        return bool(
            SignInSession.objects.filter(sid=sid, user=user, ended_at__isnull=True).update(
                last_seen_at=timezone.now(), session_key=request.session.session_key or ""
            )
        )


_BROWSERS = [("Edg/", "Edge"), ("SamsungBrowser/", "Samsung Internet"), ("Whale/", "Whale"),
             ("KAKAOTALK", "KakaoTalk"), ("NAVER(", "Naver"), ("Firefox/", "Firefox"),
             ("Chrome/", "Chrome"), ("Safari/", "Safari")]  # fmt: skip
_SYSTEMS = [("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux")]  # fmt: skip


def device_label(user_agent: str) -> str:
    """ "Chrome · Android": enough for a person to recognise a device, from the first names the
    User-Agent holds (the order matters: Edge's says Chrome too, Chrome's says Safari)."""
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), "")
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), "")
    return " · ".join(part for part in (browser, system) if part)
