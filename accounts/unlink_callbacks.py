"""Where Kakao and Naver tell us that a person unlinked our service (providers.md §6.1, §6.2).

Each request is authenticated before anything is believed: Kakao's by its admin key and our
app id, Naver's by its signature, with a fresh timestamp, never seen before, and an id that
decrypts. A refusal changes nothing, answers a plain status and is a security event (limited
per address: anyone can send these). An accepted notice is recorded first, then settled
(unlinking.py), and answered as the provider wants: Kakao 200 within its 3 seconds, whatever
became of the work or the person; Naver 204.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import BadRequest, RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, QueryDict
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from events.recording import Kind, event_record
from infra.origin import Origin
from infra.ratelimit import address_subject, rate_hit

from .providers.naver_unlink import (
    unlink_base_string,
    unlink_decrypt,
    unlink_key,
    unlink_signature_matches,
)
from .unlinking import unlink_notice_record, unlink_notice_settle

log = logging.getLogger("accounts.unlinking")

TIMESTAMP_SKEW = 300  # seconds a Naver notice's timestamp may be off
SIGNATURE_MEMORY = 600  # seconds Naver signatures are remembered, against replays
# Naver says no more than that the person withdrew their consent (or left Naver altogether).
NAVER_REASON = "CONSENT_WITHDRAWN"


def same(given: str, expected: str) -> bool:
    """Constant-time; never equal to an unset (empty) secret."""
    return bool(expected) and hmac.compare_digest(
        given.encode("utf-8", "replace"), expected.encode()
    )


def refusal(request: HttpRequest, provider: str, reason: str, status: int) -> HttpResponse:
    log.warning("unlink notice from %s refused: %s", provider, reason)
    origin = Origin.of(request)
    subject = address_subject(origin.ip_address)
    if rate_hit("upstream_failure_address", subject, origin=origin).allowed:
        event_record(Kind.UNLINK_REFUSED, origin=origin, provider=provider, reason=reason)
    return HttpResponse(status=status)


def parameters(request: HttpRequest) -> QueryDict | None:
    """The notice's parameters: the query of a GET, the form of a POST; None if unreadable."""
    if request.method == "GET":
        return request.GET
    try:
        return request.POST
    except (BadRequest, RequestDataTooBig, TooManyFieldsSent):
        return None


@csrf_exempt
@require_http_methods(["GET", "POST"])
def kakao(request: HttpRequest) -> HttpResponse:
    """Kakao's unlink webhook, by GET or POST as the app is configured there."""
    params = parameters(request) or QueryDict()
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if not (
        scheme == "KakaoAK"
        and same(key.strip(), settings.KAKAO_ADMIN_KEY)
        and same(params.get("app_id", ""), settings.KAKAO_APP_ID)
    ):
        return refusal(request, "kakao", "authentication", 401)
    user_id, referrer_type = params.get("user_id", ""), params.get("referrer_type", "")
    if not user_id.isascii() or not user_id.isdigit() or len(user_id) > 20:
        return refusal(request, "kakao", "user_id", 400)
    notice = unlink_notice_record(provider="kakao", uid=user_id, reason=referrer_type)
    unlink_notice_settle(notice, origin=Origin.of(request))
    return HttpResponse(status=200)


@csrf_exempt
@require_POST
def naver(request: HttpRequest) -> HttpResponse:
    """Naver's unlink callback: a signed form with the person's id encrypted."""
    params = parameters(request)
    if params is None:
        return refusal(request, "naver", "malformed", 400)
    client_id, encrypted, timestamp, signature = (
        params.get(name, "") for name in ("clientId", "encryptUniqueId", "timestamp", "signature")
    )
    if not same(client_id, settings.NAVER_CLIENT_ID):
        return refusal(request, "naver", "client", 403)
    base_string = unlink_base_string(client_id, encrypted, timestamp)
    key = next(
        (key for key in naver_keys() if unlink_signature_matches(key, base_string, signature)),
        None,
    )
    if key is None:
        return refusal(request, "naver", "signature", 403)
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TIMESTAMP_SKEW:
        return refusal(request, "naver", "timestamp", 403)
    seen = f"naver-unlink:{hashlib.sha256(signature.rstrip('=').encode()).hexdigest()}"
    if not cache.add(seen, 1, timeout=SIGNATURE_MEMORY):
        return refusal(request, "naver", "replayed", 403)
    try:
        uid = unlink_decrypt(key, encrypted)
    except ValueError:
        return refusal(request, "naver", "garbled", 400)
    notice = unlink_notice_record(provider="naver", uid=uid, reason=NAVER_REASON)
    unlink_notice_settle(notice, origin=Origin.of(request))
    return HttpResponse(status=204)


def naver_keys() -> list[bytes]:
    """The current secret's key, and after a rotation the previous one's, until it is unset."""
    secrets = [settings.NAVER_CLIENT_SECRET, settings.NAVER_PREVIOUS_CLIENT_SECRET]
    return [unlink_key(secret) for secret in secrets if secret]
