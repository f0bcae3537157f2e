"""Our own mobile apps' sign-in with Google's and Kakao's SDKs, for the token exchange at the
token endpoint (oauth/native.py asks, RFC 8693).

A token that proves a person signed in proves nothing about which app it was for, and a token
of somebody else's app must not sign in to ours (token substitution). So an id_token must be
addressed (`aud`) to one of our native app keys, be fresh (`iat`) and carry a nonce this server
issued to the presenting client, once; a Kakao access token must be one that Kakao's
access_token_info says belongs to our app. Naver cannot say which app its tokens are for: its
tokens are refused. The account is then found as in web sign-in (services.py), and failures are
security events as there, limited per address; input that is not even a token is only logged.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from django.conf import settings
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError, MissingClaimError
from joserfc.jws import extract_compact

from events.recording import Kind, event_record
from infra.ratelimit import address_subject, rate_hit
from infra.remote_jwks import remote_jwks
from oauth.native import ACCESS_TOKEN_TYPE, Subject, SubjectRefused, nonce_take

from .models import User
from .providers import Profile, Provider, UpstreamError, UpstreamUnavailable, checked_profile
from .providers.google import Google
from .providers.kakao import Kakao
from .services import IdentityError, upstream_login_complete

log = logging.getLogger("accounts.native")

NAVER_ISSUERS = ("https://nid.naver.com",)
MAX_AGE = 300  # seconds an id_token may have been issued before it is exchanged
LEEWAY = 60  # seconds of clock difference forgiven

NAVER_REFUSED = (
    "Naver tokens are not accepted: Naver does not say which app a token was issued to. "
    "Sign in with Naver through the browser (authorization code with PKCE)."
)
ANOTHER_APP = "The subject_token was issued to another app."
IDENTITY_REFUSED = {
    "inactive": "The account of this person is disabled.",
    "email_missing": "The provider gave no email address, which a new account needs.",
}


class Refused(Exception):
    """A subject token refused: `reason` for the security event, `description` for the client.
    Noise (not even a token) is logged, not recorded."""

    def __init__(
        self, reason: str, description: str, *, provider: str = "", noise: bool = False
    ) -> None:
        super().__init__(description)
        self.reason, self.description, self.provider, self.noise = (
            reason, description, provider, noise,
        )  # fmt: skip


def exchange_offered() -> bool:
    return bool(
        settings.GOOGLE_NATIVE_CLIENT_IDS or settings.KAKAO_NATIVE_APP_KEY or settings.KAKAO_APP_ID
    )


def exchange_person(subject: Subject) -> User:
    """The account the subject token signs in to, created or linked as in web sign-in."""
    try:
        profile = checked_profile(subject_profile(subject))
        user = upstream_login_complete(profile=profile, origin=subject.origin)
    except Refused as refusal:
        failure(subject, refusal)
        raise SubjectRefused(refusal.description) from None
    except UpstreamUnavailable as error:
        failure(subject, Refused("unavailable", str(error), provider=provider_named(subject)))
        raise SubjectRefused(
            "The provider could not be reached; try again.", unavailable=True
        ) from None
    except UpstreamError as error:
        failure(subject, Refused(error.reason, str(error), provider=provider_named(subject)))
        raise SubjectRefused("The provider does not vouch for the subject_token.") from None
    except IdentityError as error:
        failure(subject, Refused(error.reason, error.reason, provider=profile.provider))
        description = IDENTITY_REFUSED.get(error.reason, "This sign-in cannot be completed.")
        raise SubjectRefused(description) from None
    event_record(
        Kind.SIGN_IN, origin=subject.origin, user_id=user.pk, client_id=subject.client_pk,
        method=profile.provider, via="token_exchange",
    )  # fmt: skip
    return user


def failure(subject: Subject, refusal: Refused) -> None:
    """Logged; a security event too unless it is noise or the address has had its share."""
    log.warning("native sign-in refused (%s): %s", refusal.reason, refusal)
    if refusal.noise:
        return
    origin = subject.origin
    subject_key = address_subject(origin.ip_address)
    if rate_hit("upstream_failure_address", subject_key, origin=origin).allowed:
        event_record(
            Kind.SIGN_IN_FAILED, origin=origin, client_id=subject.client_pk,
            method="token_exchange", provider=refusal.provider, reason=refusal.reason,
        )  # fmt: skip


def provider_named(subject: Subject) -> str:
    return subject.issuer or ""


def subject_profile(subject: Subject) -> Profile:
    if subject.token_type == ACCESS_TOKEN_TYPE:
        if subject.issuer == "kakao":
            return kakao_access_token_profile(subject.token)
        if subject.issuer == "naver":
            raise Refused("naver", NAVER_REFUSED, provider="naver")
        raise Refused(
            "issuer", "Access tokens are accepted with subject_issuer=kakao only.", noise=True
        )
    return id_token_profile(subject)


# id_tokens


def id_token_profile(subject: Subject) -> Profile:
    claims = unverified_claims(subject.token)
    provider, issuers, audiences = issuer_of(claims.get("iss"))
    if subject.issuer not in (None, provider.id):
        raise Refused("issuer", "subject_issuer is not the issuer of the subject_token.")
    if not audiences:
        raise Refused("not_configured", "Native sign-in with this provider is not configured.")
    claims = verified_claims(subject.token, provider, issuers)
    aud = claims.get("aud")
    aud = aud[0] if isinstance(aud, list) and len(aud) == 1 else aud
    if not isinstance(aud, str) or aud not in audiences:
        raise Refused(
            "audience", "The subject_token was issued to another app.", provider=provider.id
        )
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise Refused(
            "nonce_missing",
            "The subject_token carries no nonce: get one from /oauth/native/nonce for the SDK.",
            provider=provider.id,
        )
    if not nonce_take(subject.client_id, nonce):
        raise Refused(
            "nonce",
            "The nonce of the subject_token was not issued to this client, or was used already.",
            provider=provider.id,
        )
    return profile_from_claims(provider.id, claims)


def unverified_claims(token: str) -> dict[str, Any]:
    """The claims before the signature is checked: only to tell whose keys to check it with."""
    try:
        claims = json.loads(extract_compact(token.encode()).payload)
    except (JoseError, ValueError, TypeError, RecursionError):
        raise Refused("malformed", "The subject_token is not a signed JWT.", noise=True) from None
    if not isinstance(claims, dict):
        raise Refused("malformed", "The subject_token is not a signed JWT.", noise=True)
    return claims


def issuer_of(iss: Any) -> tuple[Provider, list[str], list[str]]:
    """The provider that issues `iss`, its issuer spellings and our native app keys there."""
    google, kakao = Google(), Kakao()
    if iss in google.issuers():
        return google, google.issuers(), list(settings.GOOGLE_NATIVE_CLIENT_IDS)
    if iss == kakao.setting("ISSUER"):
        return kakao, [iss], list(settings.KAKAO_NATIVE_APP_KEY)
    if iss in NAVER_ISSUERS:
        raise Refused("naver", NAVER_REFUSED, provider="naver")
    raise Refused("issuer", "The subject_token comes from an issuer this server does not accept.")


def verified_claims(token: str, provider: Provider, issuers: list[str]) -> dict[str, Any]:
    """Signature by the provider's JWKS, iss, exp and an iat no older than MAX_AGE."""
    keys = remote_jwks(provider.setting("JWKS_URL"))
    try:
        decoded = jwt.decode(
            token, key=lambda obj: Provider.id_token_key(keys, obj), algorithms=["RS256"]
        )
    except (UpstreamError, JoseError, ValueError, TypeError, KeyError):
        raise Refused(
            "signature", "The signature of the subject_token does not verify.", provider=provider.id
        ) from None
    claims = decoded.claims
    registry = jwt.JWTClaimsRegistry(
        leeway=LEEWAY,
        iss={"essential": True, "values": issuers},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise Refused("expired", "The subject_token has expired.", provider=provider.id) from None
    except MissingClaimError:
        raise Refused(
            "claims", "The subject_token lacks a required claim.", provider=provider.id
        ) from None
    except (JoseError, ValueError, TypeError):
        raise Refused(
            "claims", "A claim of the subject_token is not valid.", provider=provider.id
        ) from None
    iat, now = claims["iat"], time.time()
    if isinstance(iat, bool) or not isinstance(iat, int | float) or iat < now - MAX_AGE - LEEWAY:
        raise Refused(
            "old", "The subject_token was issued more than 5 minutes ago.", provider=provider.id
        )
    if not isinstance(claims["sub"], str):
        raise Refused("claims", "A claim of the subject_token is not valid.", provider=provider.id)
    return claims


def profile_from_claims(provider: str, claims: dict[str, Any]) -> Profile:
    """The person as the id_token describes them. Kakao's id_token has no email_verified: its
    email is not vouched for (the access token's profile is)."""

    def text(name: str) -> str:
        value = claims.get(name)
        return value if isinstance(value, str) else ""

    return Profile(
        provider=provider,
        uid=claims["sub"],
        email=text("email"),
        email_verified=provider == "google" and claims.get("email_verified") in (True, "true"),
        name=text("name") or text("nickname"),
        given_name=text("given_name"),
        family_name=text("family_name"),
        picture=text("picture"),
        raw={"id_token": claims},
    )


# Kakao access tokens


def kakao_access_token_profile(token: str) -> Profile:
    """Kakao's access_token_info must name our app (KAKAO_APP_ID); then the person is read as in
    web sign-in."""
    if not settings.KAKAO_APP_ID:
        raise Refused(
            "not_configured", "Native sign-in with Kakao access tokens is not configured."
        )
    if not token.isascii() or not token.isprintable() or " " in token:
        raise Refused("malformed", "The subject_token is not a Kakao access token.", noise=True)
    kakao = Kakao()
    status, info = kakao.get_json(settings.KAKAO_TOKEN_INFO_URL, {"access_token": token})
    if status != 200 or not isinstance(info, dict) or "code" in info:
        raise Refused("refused", "Kakao does not accept the subject_token.", provider="kakao")
    app_id = info.get("app_id")
    if isinstance(app_id, bool) or str(app_id) != settings.KAKAO_APP_ID:
        raise Refused("audience", ANOTHER_APP, provider="kakao")
    profile = kakao.user_profile({"access_token": token})
    if isinstance(info.get("id"), bool) or str(info.get("id")) != profile.uid:
        raise Refused("claims", "Kakao describes two different people.", provider="kakao")
    return profile
