"""authlib's grants with our storage: one short subclass each, the work done by services.py."""

from __future__ import annotations

import hmac
import uuid
from typing import Any

from authlib.common.encoding import json_dumps
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import (
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
    grants,
)
from authlib.oauth2.rfc6749.hooks import hooked
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7636.challenge import CODE_VERIFIER_PATTERN, create_s256_code_challenge
from authlib.oidc.core import OpenIDCode, OpenIDToken, UserInfo
from django.conf import settings
from django.utils import timezone
from joserfc.jwk import KeySet

from . import native, retries, services
from .hashing import generate_secret
from .keys import active_signing_key
from .models import (
    CLIENT_AUTH_METHODS,
    PUBLIC_AUTH_METHOD,
    AuthorizationCode,
    Client,
    GrantType,
    RefreshToken,
)
from .people import Person
from .scopes import scope_list
from .tokens import AccessTokenGenerator


class GrantTokensMixin:
    """Token responses name the grant (token family) they belong to; see tokens.py."""

    request: Any
    GRANT_TYPE: str

    def grant_identity(self) -> tuple[uuid.UUID, int | None]:
        """The grant's id and the person's sign-in time."""
        raise NotImplementedError

    def generate_token(
        self,
        user: Person | None = None,
        scope: str | None = None,
        grant_type: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        grant_id, auth_time = self.grant_identity()
        generator = AccessTokenGenerator(grant_id=grant_id, auth_time=auth_time)
        token: dict[str, Any] = generator(
            grant_type or self.GRANT_TYPE,
            self.request.client,
            user,
            scope,
            expires_in,
            include_refresh_token,
        )
        return token


class AuthorizationCodeGrant(GrantTokensMixin, grants.AuthorizationCodeGrant):
    """RFC 6749 §4.1. The authorize view sets `request.auth_time` before a code is issued."""

    TOKEN_ENDPOINT_AUTH_METHODS = list(CLIENT_AUTH_METHODS)

    def grant_identity(self) -> tuple[uuid.UUID, int | None]:
        if not hasattr(self.request, "grant_id"):
            self.request.grant_id = uuid.uuid4()
        return self.request.grant_id, self.request.authorization_code.get_auth_time()

    def validate_authorization_request(self) -> str:
        """Validate once per request: the consent step already did, so the response step need
        not look the client up again."""
        redirect_uri: str = self.redirect_uri
        if redirect_uri is None:
            redirect_uri = super().validate_authorization_request()
        return redirect_uri

    def generate_authorization_code(self) -> str:
        return generate_secret()

    def save_authorization_code(self, code: str, request: Any) -> None:
        data = request.payload.data
        services.code_create(
            code=code,
            client=request.client,
            user=request.user,
            redirect_uri=request.payload.redirect_uri or "",
            scope=request.scope,
            nonce=data.get("nonce") or "",
            code_challenge=data.get("code_challenge") or "",
            code_challenge_method=data.get("code_challenge_method") or "",
            auth_time=request.auth_time,
            sid=getattr(request, "sid", ""),
        )

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        return services.code_find(code=code, client=client, origin=self.request.origin)

    def authenticate_user(self, authorization_code: AuthorizationCode) -> Person | None:
        user = authorization_code.user
        return user if user.is_active else None

    def save_token(self, token: dict[str, Any]) -> None:
        grant_id, _ = self.grant_identity()
        try:
            services.code_exchange(
                code=self.request.authorization_code,
                grant_id=grant_id,
                refresh_token=token.get("refresh_token"),
                origin=self.request.origin,
            )
        except services.CodeReplayed:
            raise InvalidGrantError("The authorization code has already been used.") from None
        except services.CodeGone:
            raise InvalidGrantError("The authorization code is no longer valid.") from None

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Kept, marked used by `code_exchange`, so a replay can be recognised."""


class RefreshTokenGrant(GrantTokensMixin, grants.RefreshTokenGrant):
    """RFC 6749 §6 with rotation: every use returns a new refresh token (RFC 9700 §4.14.2). A
    retry within REFRESH_RETRY_GRACE gets the first answer again (retries.py).

    The answer's body is serialised once, in `save_token`, before it is kept for retries, and
    `create_token_response` sends those very bytes: what a retry gets is what was sent."""

    TOKEN_ENDPOINT_AUTH_METHODS = list(CLIENT_AUTH_METHODS)
    INCLUDE_NEW_REFRESH_TOKEN = True

    presented = ""  # the refresh token as the client sent it: the key to its kept answer
    answer = b""

    def grant_identity(self) -> tuple[uuid.UUID, int | None]:
        grant = self.request.refresh_token.grant
        return grant.id, int(grant.auth_time.timestamp())

    def create_token_response(self) -> tuple[int, bytes, list[tuple[str, str]]]:
        if self.request.refresh_token.used_at is not None:
            # Let through by refresh_token_find: a retry within the grace. Nothing is signed
            # or rotated; the first answer goes out again.
            self.answer = self.retried_answer()
            return 200, self.answer, self.TOKEN_RESPONSE_HEADER
        status, _, headers = super().create_token_response()
        return status, self.answer, headers

    def issue_token(self, user: Person, refresh_token: RefreshToken) -> dict[str, Any]:
        """RFC 6749 §6: the grant's scope, or the part of it asked for. A scope that names
        nothing (blank) is an omitted one: authlib would pass it on, and the token would get
        the client's default scopes instead of what the person allowed."""
        requested = self.request.payload.scope
        return self.generate_token(
            user=user,
            scope=requested if scope_list(requested) else refresh_token.get_scope(),
            include_refresh_token=self.INCLUDE_NEW_REFRESH_TOKEN,
        )

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:
        self.presented = refresh_token
        return services.refresh_token_find(
            refresh_token=refresh_token, client=self.request.client, origin=self.request.origin
        )

    def authenticate_user(self, refresh_token: RefreshToken) -> Person:
        return refresh_token.grant.user

    def save_token(self, token: dict[str, Any]) -> None:
        self.answer = json_dumps(token).encode()  # the server's own serialisation
        try:
            services.refresh_token_rotate(
                old=self.request.refresh_token,
                client=self.request.client,
                new_token=token["refresh_token"],
                refresh_token=self.presented,
                answer=self.answer,
                origin=self.request.origin,
            )
        except services.RefreshTokenReused:
            # A concurrent request with the same token rotated it first: the same client
            # retrying. Both get the winner's answer, this request's tokens thrown away unsent.
            self.answer = self.retried_answer()

    def retried_answer(self) -> bytes:
        """The answer kept for the presented token; invalid_grant if there is none (no grace,
        past it, or the answer is gone with its token)."""
        answer = retries.refresh_token_retry(
            token=self.request.refresh_token,
            refresh_token=self.presented,
            origin=self.request.origin,
        )
        if answer is None:
            raise InvalidGrantError("The refresh token has already been used.")
        return answer

    def revoke_old_credential(self, refresh_token: RefreshToken) -> None:
        """Done in `save_token`, in the same transaction as issuing the new token."""


class PKCE(CodeChallenge):
    """RFC 7636 with S256 only (RFC 9700 §2.1.1); public clients must use it."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        challenge = data.get("code_challenge")
        if not challenge and grant.request.client.is_public:
            raise InvalidRequestError("Public clients must send a code_challenge (PKCE, S256).")
        if challenge and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256.")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        """RFC 7636 §4.6: a missing or wrong verifier is invalid_grant, and so is a verifier for
        a code issued without a challenge (RFC 9700 §4.8.2)."""
        verifier = grant.request.form.get("code_verifier")
        challenge = grant.request.authorization_code.code_challenge
        if not challenge:
            if verifier:
                raise InvalidGrantError("The code was issued without a code_challenge.")
            return
        if (
            not verifier
            or not CODE_VERIFIER_PATTERN.match(verifier)
            or not hmac.compare_digest(create_s256_code_challenge(verifier), challenge)
        ):
            raise InvalidGrantError("The code_verifier does not match the code_challenge.")


class IdTokens:
    """How this server signs its id_tokens, for the grants that issue them."""

    def get_client_algorithm(self, client: Client) -> str:
        return settings.ID_TOKEN_ALGORITHM

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": self.get_client_algorithm(client)}

    def resolve_client_private_key(self, client: Client) -> KeySet:
        return active_signing_key(settings.ID_TOKEN_ALGORITHM)

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        now = int(timezone.now().timestamp())
        return {
            "iss": settings.ISSUER,
            "aud": client.client_id,
            "iat": now,
            "exp": now + settings.ID_TOKEN_LIFETIME,
        }

    def generate_user_info(self, user: Person, scope: str) -> UserInfo:
        """The person's identifier only: an access token is always issued beside the id_token,
        so the profile and email claims come from UserInfo (OIDC Core §5.4)."""
        return UserInfo(sub=user.sub)


class OpenIDConnect(IdTokens, OpenIDCode):
    """OpenID Connect Core §3.1: an id_token beside the tokens when `openid` is in the scope."""

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        """Nonces are not refused for having been seen: replay protection is the client's check
        of the nonce in its id_token (OIDC Core §3.1.3.7), and a refusal would break retries."""
        return False

    def get_authorization_code_claims(self, authorization_code: Any) -> dict[str, Any]:
        """With the session the person signed in to (`sid`, OIDC Back-Channel Logout §2.1),
        which a logout token names later."""
        claims: dict[str, Any] = super().get_authorization_code_claims(authorization_code)
        if authorization_code.sid:
            claims["sid"] = authorization_code.sid
        return claims


class ExchangeIdToken(IdTokens, OpenIDToken):
    """The token exchange's id_token, when `openid` is in the scope; signed in just now."""


class TemporarilyUnavailable(OAuth2Error):
    """The provider that must vouch for a subject token could not be asked: try again."""

    error = "temporarily_unavailable"
    status_code = 503


class TokenExchangeGrant(GrantTokensMixin, grants.BaseGrant, grants.TokenEndpointMixin):
    """RFC 8693 for our own mobile apps (native clients): what a provider's SDK gave the app
    for this server's tokens. Which subject tokens are good is the sign-in side's to say
    (native.py); a bad one is invalid_request (RFC 8693 §2.2.2)."""

    GRANT_TYPE = native.TOKEN_EXCHANGE
    TOKEN_ENDPOINT_AUTH_METHODS = [PUBLIC_AUTH_METHOD]

    def grant_identity(self) -> tuple[uuid.UUID, int | None]:
        return self.request.grant_id, self.request.auth_time

    def validate_token_request(self) -> None:
        client = self.authenticate_token_endpoint_client()
        if not client.native:
            raise UnauthorizedClientError("Only our own native apps may exchange tokens.")
        self.request.client = client
        form = self.request.form
        token, token_type = form.get("subject_token"), form.get("subject_token_type")
        if not token or not token_type:
            raise InvalidRequestError("Send a subject_token and its subject_token_type.")
        if token_type not in (native.ID_TOKEN_TYPE, native.ACCESS_TOKEN_TYPE):
            raise InvalidRequestError("subject_token_type must be an id_token or access_token.")
        if form.get("actor_token") or form.get("actor_token_type"):
            raise InvalidRequestError("Delegation (actor_token) is not supported.")
        if form.get("requested_token_type", native.ACCESS_TOKEN_TYPE) != native.ACCESS_TOKEN_TYPE:
            raise InvalidRequestError("Only access tokens are issued (requested_token_type).")
        for target in ("audience", "resource"):
            if form.get(target, settings.ACCESS_TOKEN_AUDIENCE) != settings.ACCESS_TOKEN_AUDIENCE:
                raise OAuth2Error(
                    "Tokens are issued for this server's resource servers only.",
                    error="invalid_target",  # RFC 8693 §2.2.2
                )
        self.validate_requested_scope()
        # Omitted: all the client may ask for, sign-in (openid) included.
        scope = client.get_allowed_scope(self.request.payload.scope or client.allowed_scopes)
        if scope is None:
            raise InvalidScopeError("The client may not ask for this scope.")
        self.request.exchange_scope = scope
        self.request.subject = native.Subject(
            token=token, token_type=token_type, issuer=form.get("subject_issuer"),
            client_id=client.client_id, client_pk=client.pk, origin=self.request.origin,
        )  # fmt: skip

    # hooked: the id_token (ExchangeIdToken) is added to the answer after it is made
    @hooked  # type: ignore[untyped-decorator]
    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        try:
            user = native.subject_person(self.request.subject)
        except native.SubjectRefused as refusal:
            if refusal.unavailable:
                raise TemporarilyUnavailable(refusal.description) from None
            raise InvalidRequestError(refusal.description) from None
        self.request.user = user
        self.request.grant_id = uuid.uuid4()
        self.request.auth_time = int(timezone.now().timestamp())
        client = self.request.client
        token = self.generate_token(
            user=user,
            scope=self.request.exchange_scope,
            include_refresh_token=client.check_grant_type(GrantType.REFRESH_TOKEN),
        )
        native.exchange_grant_start(
            grant_id=self.request.grant_id, user=user, client=client, scope=token["scope"],
            auth_time=self.request.auth_time, refresh_token=token.get("refresh_token"),
            origin=self.request.origin,
        )  # fmt: skip
        token["issued_token_type"] = native.ACCESS_TOKEN_TYPE
        return 200, token, self.TOKEN_RESPONSE_HEADER
