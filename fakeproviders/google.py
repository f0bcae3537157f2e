"""The fake Google: OpenID Connect with PKCE, the client authenticated by HTTP Basic or in the
body, refresh tokens only for access_type=offline, and the issuer spelled with or without its
scheme."""

from __future__ import annotations

import base64
import secrets
import time
from typing import Any
from urllib.parse import unquote_plus

from .base import (
    FakeProvider,
    Grant,
    Incoming,
    Reply,
    Route,
    at_hash,
    json_reply,
    redirect,
    same,
)

GOOGLE_CLAIMS = (
    "aud email email_verified exp family_name given_name iat iss name picture sub".split()
)

GOOGLE_USER: dict[str, Any] = {
    "sub": "110169484474386276334",
    "email": "jane@example.com",
    "email_verified": True,
    "name": "Jane Doe",
    "given_name": "Jane",
    "family_name": "Doe",
    "picture": "https://lh3.googleusercontent.com/a/jane",
}


def google_scope(scope: list[str]) -> str:
    """Google answers `email` and `profile` spelled as URLs (as its documentation shows)."""
    urls = {
        "email": "https://www.googleapis.com/auth/userinfo.email",
        "profile": "https://www.googleapis.com/auth/userinfo.profile",
    }
    return " ".join(urls.get(item, item) for item in scope)


class FakeGoogle(FakeProvider):
    """Google: OIDC code flow with PKCE (plain or S256), Basic or body client credentials."""

    name = "google"
    label = "Google"
    authorize_path = "/o/oauth2/v2/auth"
    default_user = GOOGLE_USER
    access_ttl = 3599
    refresh_ttl = 180 * 86400
    routes = {
        "/.well-known/openid-configuration": Route(("GET",), "discovery", False),
        "/o/oauth2/v2/auth": Route(("GET", "POST"), "authorize", False),
        "/token": Route(("POST",), "token", True),
        "/v1/userinfo": Route(("GET", "POST"), "userinfo", True),
        "/oauth2/v3/certs": Route(("GET",), "certs", True),
        "/revoke": Route(("POST",), "revoke", True),
        # Not Google's: what Google's sign-in on Android or iOS hands an app.
        "/sdk/sign-in": Route(("POST",), "sdk_sign_in_reply", False),
    }

    issuer_spelling: str
    native_client_id: str

    def reset(self) -> None:
        with self._lock:
            super().reset()
            self.issuer_spelling = "url"
            self.native_client_id = "fake-google-native-client.apps.googleusercontent.com"
            self._offline_given: set[str] = set()

    @property
    def issuer(self) -> str:
        """The id_token's `iss`: "url" is the base URL, "bare" the same without its scheme."""
        if self.issuer_spelling == "bare":
            return self.base.removeprefix("http://").removeprefix("https://")
        return self.base

    def new_code(self) -> str:
        return "4/0A" + secrets.token_urlsafe(32)

    def new_access_token(self) -> str:
        return "ya29.a0" + secrets.token_urlsafe(60)

    def new_refresh_token(self) -> str:
        return "1//0g" + secrets.token_urlsafe(40)

    def error(self, status: int, error: str, description: str) -> Reply:
        return json_reply(status, {"error": error, "error_description": description})

    def discovery(self, request: Incoming) -> Reply:
        return json_reply(
            200,
            {
                "issuer": self.base,
                "authorization_endpoint": f"{self.base}/o/oauth2/v2/auth",
                "token_endpoint": f"{self.base}/token",
                "userinfo_endpoint": f"{self.base}/v1/userinfo",
                "revocation_endpoint": f"{self.base}/revoke",
                "jwks_uri": f"{self.base}/oauth2/v3/certs",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "client_secret_basic",
                ],
                "claims_supported": GOOGLE_CLAIMS,
                "code_challenge_methods_supported": ["plain", "S256"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
            },
        )

    def authorize_problem(self, params: dict[str, str]) -> Reply | None:
        if params.get("client_id") and params["client_id"] != self.client_id:
            return self.error(401, "invalid_client", "The OAuth client was not found.")
        problem = super().authorize_problem(params)
        if problem is None and not params.get("scope"):
            problem = self.error(400, "invalid_request", "Missing required parameter: scope")
        if problem is None and params.get("code_challenge"):
            method = params.setdefault("code_challenge_method", "plain")
            if method not in ("plain", "S256"):
                problem = self.error(400, "invalid_request", "Invalid code_challenge_method")
        return problem

    def approved(self, grant: Grant, code: str) -> Reply:
        params = {} if grant.state is None else {"state": grant.state}
        params.update(code=code, scope=google_scope(grant.scope), authuser="0", prompt="consent")
        return redirect(grant.redirect_uri, params)

    def denied(self, params: dict[str, str]) -> Reply:
        answer = {"error": "access_denied"}
        if "state" in params:
            answer["state"] = params["state"]
        return redirect(params["redirect_uri"], answer)

    def person(self) -> tuple[str, str]:
        return str(self.user.get("name", "")), str(self.user.get("email", ""))

    def client_problem(self, request: Incoming) -> Reply | None:
        """Client authentication by HTTP Basic or by the body's client_id and client_secret."""
        client_id, secret = request.form.get("client_id"), request.form.get("client_secret")
        scheme, _, credentials = (request.authorization or "").strip().partition(" ")
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credentials.strip(), validate=True).decode()
            except ValueError:
                return self.error(401, "invalid_client", "The OAuth client was not found.")
            raw_id, _, raw_secret = decoded.partition(":")
            client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
        if not client_id:
            return self.error(400, "invalid_request", "Could not determine client ID from request.")
        if client_id != self.client_id:
            return self.error(401, "invalid_client", "The OAuth client was not found.")
        if not secret:
            return self.error(400, "invalid_request", "client_secret is missing.")
        if not same(secret, self.client_secret):
            return self.error(401, "invalid_client", "Unauthorized")
        return None

    def token(self, request: Incoming) -> Reply:
        fault = self.overridden(self.token_error)
        if fault is not None:
            return fault
        grant_type = request.form.get("grant_type", "")
        if grant_type not in ("authorization_code", "refresh_token"):
            return self.error(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")
        problem = self.client_problem(request)
        if problem is not None:
            return problem
        if grant_type == "refresh_token":
            return self.refresh(request)
        code = request.form.get("code")
        if not code:
            return self.error(400, "invalid_request", "Missing required parameter: code")
        grant = self.take_code(code)
        if grant is None or grant.client_id != self.client_id:
            return self.error(400, "invalid_grant", "Bad Request")
        redirect_uri = request.form.get("redirect_uri")
        if not redirect_uri:
            return self.error(400, "invalid_request", "Missing parameter: redirect_uri")
        if redirect_uri != grant.redirect_uri:
            return self.error(400, "redirect_uri_mismatch", "Bad Request")
        if grant.code_challenge:
            verifier = request.form.get("code_verifier")
            if not verifier:
                return self.error(400, "invalid_grant", "Missing code verifier.")
            if not grant.pkce_matches(verifier):
                return self.error(400, "invalid_grant", "Bad Request")
        family = secrets.token_hex(8)
        access = self.issue_access(grant, family)
        body: dict[str, Any] = {
            "access_token": access,
            "expires_in": self.access_ttl,
            "token_type": "Bearer",
            "scope": google_scope(grant.scope),
        }
        if "openid" in grant.scope:
            body["id_token"] = self.id_token(grant, access, nonce=grant.nonce)
        if self.gives_refresh_token(grant):
            body["refresh_token"] = self.issue_refresh(grant, family)
        return json_reply(200, body)

    def gives_refresh_token(self, grant: Grant) -> bool:
        """access_type=offline: on the first exchange for this client, or with prompt=consent."""
        if grant.params.get("access_type") != "offline":
            return False
        first = grant.client_id not in self._offline_given
        self._offline_given.add(grant.client_id)
        return first or "consent" in grant.params.get("prompt", "").split()

    def refresh(self, request: Incoming) -> Reply:
        token = request.form.get("refresh_token")
        if not token:
            return self.error(400, "invalid_request", "Missing required parameter: refresh_token")
        issued = self.live_refresh(token)
        if issued is None:
            return self.error(400, "invalid_grant", "Token has been expired or revoked.")
        access = self.issue_access(issued.grant, issued.family)
        body: dict[str, Any] = {
            "access_token": access,
            "expires_in": self.access_ttl,
            "token_type": "Bearer",
            "scope": google_scope(issued.grant.scope),
        }
        if "openid" in issued.grant.scope:
            body["id_token"] = self.id_token(issued.grant, access, nonce=None)
        return json_reply(200, body)

    def id_token(self, grant: Grant, access_token: str, *, nonce: str | None) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "azp": grant.client_id,
            "aud": grant.client_id,
            "sub": self.user.get("sub"),
        }
        for name in ("hd", "email", "email_verified"):
            if name in self.user:
                claims[name] = self.user[name]
        claims["at_hash"] = at_hash(access_token)
        if nonce is not None:
            claims["nonce"] = nonce
        for name in ("name", "picture", "given_name", "family_name"):
            if name in self.user:
                claims[name] = self.user[name]
        claims.update(iat=now, exp=now + 3600)
        return self.sign(claims)

    def sdk_sign_in(self, *, nonce: str | None = None, client_id: str | None = None) -> str:
        """The id_token Google's sign-in gives a mobile app (no access token beside it), for
        our native client id, or another's (`client_id`)."""
        now = int(time.time())
        audience = client_id or self.native_client_id
        claims: dict[str, Any] = {
            "iss": self.issuer, "azp": f"{audience}-android", "aud": audience,
            "sub": self.user.get("sub"), "iat": now, "exp": now + 3600,
        }  # fmt: skip
        if nonce is not None:
            claims["nonce"] = nonce
        for name in ("hd", "email", "email_verified", "name", "picture", "given_name"):
            if name in self.user:
                claims[name] = self.user[name]
        return self.sign(claims)

    def sdk_sign_in_reply(self, request: Incoming) -> Reply:
        """POST nonce (and client_id, for another app's): sdk_sign_in over HTTP."""
        form = request.form
        token = self.sdk_sign_in(
            nonce=form.get("nonce") or None, client_id=form.get("client_id") or None
        )
        return json_reply(200, {"id_token": token})

    def userinfo(self, request: Incoming) -> Reply:
        fault = self.overridden(self.profile_error)
        if fault is not None:
            return fault
        if self.live_access(request.bearer()) is None:
            challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            return json_reply(401, {"error": "invalid_token"}, challenge)
        return json_reply(200, self.user)

    def revoke(self, request: Incoming) -> Reply:
        token = request.params.get("token")
        if not token:
            return self.error(400, "invalid_request", "Missing required parameter: token")
        issued = self.live_access(token) or self.live_refresh(token)
        if issued is None:
            return self.error(400, "invalid_token", "Token expired or revoked")
        self.revoke_family(issued.family)
        return Reply(200)
