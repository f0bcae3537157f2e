"""What the authorization endpoint and the sign-in side (accounts/) tell each other.

The sign-in side records, as a person signs in, when that was and whether they presented
credentials (a password, or a provider asked to take them again: a provider's one-click answer
is no active authentication, OIDC Core §3.1.2.1). This side reads that for `auth_time`,
`max_age`, `prompt=login` and `id_token_hint`, and marks the requests that demand credentials
afresh, so that the sign-in side offers only the ways in that can ask for them again. Neither
side knows more of the other: no provider is named here.
"""

from __future__ import annotations

import hashlib
import time
from urllib.parse import parse_qs, urlsplit

from authlib.oauth2.rfc6749 import InvalidRequestError
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.utils.http import MAX_URL_LENGTH as MAX_RETURN_LENGTH  # the login page's `next`

AUTH_TIME_SESSION_KEY = "auth_time"
CREDENTIALS_TIME_SESSION_KEY = "credentials_time"
SID_SESSION_KEY = "sid"
# Added to the authorization URL when the person is sent to sign in again; see sign_in_demand.
REAUTHENTICATION_PARAMETER = "login_required_after"
REAUTHENTICATION_SALT = "oauth.authorize.reauthentication"


def sign_in_record(request: HttpRequest, *, credentials_presented: bool, sid: str) -> None:
    """For the sign-in side, right after a person signs in to this session: `sid` names the
    session the sign-in side keeps for it (the id_token's `sid`, OIDC Front- and Back-Channel
    Logout)."""
    now = time.time()
    request.session[AUTH_TIME_SESSION_KEY] = now
    if credentials_presented:
        request.session[CREDENTIALS_TIME_SESSION_KEY] = now
    sid_record(request, sid)


def sid_record(request: HttpRequest, sid: str) -> None:
    request.session[SID_SESSION_KEY] = sid


def session_sid(request: HttpRequest) -> str | None:
    """The sign-in session this session is, as the sign-in side named it."""
    sid = request.session.get(SID_SESSION_KEY)
    return sid if isinstance(sid, str) else None


def session_auth_time(request: HttpRequest) -> float | None:
    """When this session's person signed in, in seconds since the epoch."""
    return _session_time(request, AUTH_TIME_SESSION_KEY)


def session_credentials_time(request: HttpRequest) -> float | None:
    """When this session's person last presented credentials."""
    return _session_time(request, CREDENTIALS_TIME_SESSION_KEY)


def _session_time(request: HttpRequest, key: str) -> float | None:
    value = request.session.get(key)
    return float(value) if isinstance(value, int | float) else None


def demands_fresh_sign_in(path: str) -> bool:
    """For the sign-in side: whether a return path (the login page's `next`) is an
    authorization request that demands credentials afresh. A way of signing in that cannot
    ask for them again cannot satisfy it."""
    return REAUTHENTICATION_PARAMETER in parse_qs(urlsplit(path).query)


def requested_ui_locales(path: str) -> str | None:
    """For the sign-in side: the languages an authorization request (the login page's `next`)
    asks its pages in."""
    return parse_qs(urlsplit(path).query).get("ui_locales", [None])[0]


def fresh_sign_in_required(request: HttpRequest, prompts: set[str]) -> bool:
    """prompt=login or select_account, or a max_age older than the last time the person
    presented credentials (OIDC Core §3.1.2.1)."""
    if prompts & {"login", "select_account"}:
        return True
    max_age = request.GET.get("max_age")
    if not max_age:
        return False
    if not max_age.isascii() or not max_age.isdigit() or len(max_age) > 10:
        raise InvalidRequestError("max_age must be a number of seconds.")
    return time.time() - (session_credentials_time(request) or 0.0) > int(max_age)


def sign_in_demand(request: HttpRequest, *, again: bool) -> HttpResponse:
    """To the login page, which returns here. When a fresh sign-in is demanded, the return URL
    carries a signed note of when it was demanded: signing in afterwards satisfies it, coming
    straight back does not, and it survives the new session that signing in starts."""
    if not again:
        return_path = request.get_full_path()
    else:
        params = request.GET.copy()
        params.pop(REAUTHENTICATION_PARAMETER, None)
        note = {"since": time.time(), "request": _fingerprint(params.urlencode())}
        params[REAUTHENTICATION_PARAMETER] = signing.dumps(note, salt=REAUTHENTICATION_SALT)
        return_path = f"{request.path}?{params.urlencode()}"
    if len(return_path) > MAX_RETURN_LENGTH:
        # The login page would drop it, and the person would land on their account page.
        raise InvalidRequestError("The request is too long to come back to after signing in.")
    return redirect_to_login(return_path)


def signed_in_again(request: HttpRequest) -> bool:
    """Whether the person presented credentials after this request demanded it (see
    sign_in_demand): a one-click sign-in started elsewhere does not count."""
    params = request.GET.copy()
    token = params.pop(REAUTHENTICATION_PARAMETER, [None])[0]
    if not token:
        return False
    try:
        note = signing.loads(token, salt=REAUTHENTICATION_SALT, max_age=3600)
    except signing.BadSignature:
        return False
    since = note.get("since") if isinstance(note, dict) else None
    return (
        isinstance(since, float)
        and note.get("request") == _fingerprint(params.urlencode())
        and (session_credentials_time(request) or 0.0) > since
    )


def _fingerprint(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()
