"""What every upstream provider shares: the OAuth mechanics (authlib's requests client), the
checks of an id_token, and the named errors the sign-in callback turns into a friendly page.

A provider module says where its endpoints are (settings, read when used) and how its profile
response becomes a `Profile`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar
from urllib.parse import urlencode

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from django.conf import settings
from django.utils.functional import Promise
from joserfc import jwt
from joserfc.errors import JoseError

from accounts.emails import email_canonical
from infra.outbound import AnswerTooLarge, Bounded, bounded_get
from infra.remote_jwks import remote_jwks

log = logging.getLogger("accounts.upstream")


@dataclass(frozen=True)
class Profile:
    """A person as a provider describes them, in one shape for all providers."""

    provider: str
    uid: str
    email: str = ""
    email_verified: bool = False  # whether the provider vouches that the email is theirs
    name: str = ""  # the whole name
    given_name: str = ""  # only when the provider tells the parts apart
    family_name: str = ""
    picture: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


def checked_profile(profile: Profile) -> Profile:
    """A profile fit to look accounts up by: a printable uid of sane length, and an email only
    if it is one that can be compared with others (accounts/emails.py; a provider's odd bytes
    must not reach the database)."""
    if not profile.uid or len(profile.uid) > 255 or not profile.uid.isprintable():
        raise UpstreamInvalid("profile: unusable uid")
    email = profile.email
    if email and (len(email) > 254 or email_canonical(email) is None):
        return replace(profile, email="", email_verified=False)
    return profile


@dataclass(frozen=True)
class Pending:
    """One sign-in in flight, kept in the session from the redirect out to the callback."""

    state: str
    redirect_uri: str
    code_verifier: str | None = None
    nonce: str | None = None
    reauthenticate: bool = False  # a fresh sign-in was demanded (prompt=login, max_age)
    started_at: float = 0.0  # when the person was sent to the provider


class UpstreamError(Exception):
    """A sign-in through a provider that cannot complete. The message is for the logs."""

    reason = "failed"


class UpstreamDenied(UpstreamError):
    """The person cancelled at the provider (error=access_denied)."""

    reason = "denied"


class UpstreamUnavailable(UpstreamError):
    """The provider did not answer in time, or answered with a server error."""

    reason = "unavailable"


class UpstreamRefused(UpstreamError):
    """The provider answered with an error (in any of its shapes)."""

    reason = "refused"


class UpstreamNotReauthenticated(UpstreamError):
    """A fresh sign-in was demanded, and the provider's id_token says it signed the person in
    earlier (its auth_time): the provider did not ask for the credentials again."""

    reason = "reauthentication"


class UpstreamInvalid(UpstreamError):
    """The provider's answer cannot be trusted: a bad id_token, a malformed profile."""

    reason = "invalid"


def authorization_error(error: str | None) -> UpstreamError:
    """What the error a provider sends the person back with means (RFC 6749 §4.1.2.1): only
    access_denied is the person cancelling."""
    detail = f"authorize: {(error or '')[:100]!r}"
    if error == "access_denied":
        return UpstreamDenied(detail)
    if error in {"server_error", "temporarily_unavailable"}:
        return UpstreamUnavailable(detail)
    return UpstreamRefused(detail)


class UpstreamSession(Bounded, OAuth2Session):
    """authlib's client, its answers bounded in time and size (infra/outbound.py)."""


class Provider:
    id: ClassVar[str]
    label: ClassVar[str | Promise]  # a name people read, translated
    pkce: ClassVar[bool] = True
    token_auth_method: ClassVar[str] = "client_secret_post"
    # The authorization parameters that make the provider ask for the person's credentials even
    # when they are signed in there; None when it has none.
    reauthentication: ClassVar[dict[str, str] | None] = None

    def can_reauthenticate(self) -> bool:
        """Whether a sign-in here can stand for a fresh sign-in demanded by an app (prompt=login,
        max_age, OIDC Core §3.1.2.1): the provider must be asked to take the credentials again
        and prove that it did, by the auth_time of its id_token (id_token_claims checks it). The
        parameter alone proves nothing: anyone between can strip it from the redirect."""
        return self.reauthentication is not None and self.uses_openid()

    def setting(self, name: str) -> str:
        return str(getattr(settings, f"{self.id.upper()}_{name}"))

    @property
    def client_id(self) -> str:
        return self.setting("CLIENT_ID")

    @property
    def client_secret(self) -> str:
        return self.setting("CLIENT_SECRET")

    def is_configured(self) -> bool:
        return bool(self.client_id)

    def uses_openid(self) -> bool:
        return False

    def scope(self) -> str | None:
        return None

    def session(
        self, redirect_uri: str | None = None, token: dict[str, Any] | None = None
    ) -> OAuth2Session:
        session = UpstreamSession(
            client_id=self.client_id,
            client_secret=self.client_secret or None,
            token_endpoint_auth_method=self.token_auth_method,
            scope=self.scope(),
            redirect_uri=redirect_uri,
            token=token,
            code_challenge_method="S256" if self.pkce else None,
            default_timeout=settings.UPSTREAM_TIMEOUT,
        )
        session.target = self.id  # the provider's name in the metrics
        return session

    def authorization_url(self, pending: Pending) -> str:
        extra = {"nonce": pending.nonce} if pending.nonce else {}
        if pending.reauthenticate and self.reauthentication is not None:
            extra.update(self.reauthentication)
        url, _ = self.session(pending.redirect_uri).create_authorization_url(
            self.setting("AUTHORIZE_URL"),
            state=pending.state,
            code_verifier=pending.code_verifier,
            **extra,
        )
        return str(url)

    def exchange(self, *, code: str, pending: Pending) -> dict[str, Any]:
        """The code for the provider's tokens (RFC 6749 §4.1.3), errors in any shape refused."""
        session = self.session(pending.redirect_uri)
        try:
            token = session.fetch_token(
                self.setting("TOKEN_URL"),
                code=code,
                code_verifier=pending.code_verifier,
                body=urlencode(self.token_request_extras(pending)),
            )
        except OAuthError as error:
            raise UpstreamRefused(f"token endpoint: {error.error}: {error.description}") from None
        except requests.Timeout:
            raise UpstreamUnavailable("token endpoint: timed out") from None
        except requests.RequestException as error:
            raise UpstreamUnavailable(f"token endpoint: {type(error).__name__}") from None
        except (ValueError, TypeError, OverflowError, KeyError, RecursionError) as error:
            # A body authlib cannot read: not JSON, JSON nested too deep to parse, or an
            # expires_in of {} or 1e309…
            raise UpstreamInvalid(f"token endpoint: {type(error).__name__}: {error}") from None
        if not isinstance(token.get("access_token"), str):
            raise UpstreamInvalid("token endpoint: no access_token")
        return dict(token)

    def token_request_extras(self, pending: Pending) -> dict[str, str]:
        return {}

    def profile(self, *, token: dict[str, Any], pending: Pending) -> Profile:
        raise NotImplementedError

    def get_json(self, url: str, token: dict[str, Any], **headers: str) -> tuple[int, Any]:
        """A bearer GET that answers (status, parsed JSON); no answer is UpstreamUnavailable."""
        try:
            response = bounded_get(
                url,
                headers={"Authorization": f"Bearer {token['access_token']}", **headers},
                timeout=settings.UPSTREAM_TIMEOUT,
                target=self.id,
            )
        except requests.Timeout:
            raise UpstreamUnavailable(f"{url}: timed out") from None
        except requests.RequestException as error:
            raise UpstreamUnavailable(f"{url}: {type(error).__name__}") from None
        except AnswerTooLarge as error:
            raise UpstreamInvalid(str(error)) from None
        if response.status_code >= 500:
            raise UpstreamUnavailable(f"{url}: HTTP {response.status_code}")
        try:
            return response.status_code, response.json()
        except (ValueError, RecursionError):  # not JSON, or nested too deep to parse
            raise UpstreamInvalid(f"{url}: not JSON (HTTP {response.status_code})") from None

    def id_token_claims(
        self, token: dict[str, Any], *, pending: Pending, issuers: list[str]
    ) -> CodeIDToken:
        """OpenID Connect Core §3.1.3.7: signature by the provider's JWKS, iss, aud, exp,
        nonce and at_hash."""
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise UpstreamInvalid("no id_token")
        keys = remote_jwks(self.setting("JWKS_URL"), target=self.id)
        try:
            decoded = jwt.decode(
                id_token, key=lambda obj: self.id_token_key(keys, obj), algorithms=["RS256"]
            )
            claims = CodeIDToken(
                decoded.claims,
                decoded.header,
                {
                    "iss": {"essential": True, "values": issuers},
                    "aud": {"essential": True, "value": self.client_id},
                    "sub": {"essential": True},
                },
                {"nonce": pending.nonce, "client_id": self.client_id,
                 "access_token": token.get("access_token")},
            )  # fmt: skip
            claims.validate(leeway=60)
        except UpstreamError:
            raise
        except (JoseError, ValueError, TypeError, KeyError) as error:
            raise UpstreamInvalid(f"id_token: {type(error).__name__}: {error}") from None
        auth_time = claims.get("auth_time")
        if pending.reauthenticate and not (
            isinstance(auth_time, int) and auth_time >= pending.started_at - 60
        ):
            raise UpstreamNotReauthenticated(f"id_token: auth_time {auth_time!r} is from before")
        return claims

    @staticmethod
    def id_token_key(keys: Any, token: Any) -> Any:
        kid = token.headers().get("kid")
        key = keys.find(kid) if isinstance(kid, str) else None
        if key is None:
            raise UpstreamInvalid("id_token: signed with an unknown key")
        return key
