"""The fake Kakao: OAuth 2.0 with optional OpenID Connect, a form-only token endpoint, KOE
error codes and kapi.kakao.com's own error shape."""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import quote

from .base import (
    FORM,
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
from .notices import send_notice

KAKAO_SCOPES = "openid profile_nickname profile_image account_email"
KAKAO_CLAIMS = "iss aud sub auth_time exp iat nonce nickname picture email".split()

_KAKAO_IMAGE = "http://k.kakaocdn.net/dn/dpk9l1/btqmGhA2lKL/Oz0wDuJn1YV2DIn92f6DVK/img_640x640.jpg"
_KAKAO_THUMBNAIL = _KAKAO_IMAGE.replace("640x640", "110x110")

KAKAO_USER: dict[str, Any] = {
    "id": 123456789,
    "connected_at": "2022-04-11T01:45:28Z",
    "properties": {
        "nickname": "홍길동",
        "profile_image": _KAKAO_IMAGE,
        "thumbnail_image": _KAKAO_THUMBNAIL,
    },
    "kakao_account": {
        "profile_nickname_needs_agreement": False,
        "profile_image_needs_agreement": False,
        "profile": {
            "nickname": "홍길동",
            "thumbnail_image_url": _KAKAO_THUMBNAIL,
            "profile_image_url": _KAKAO_IMAGE,
            "is_default_image": False,
        },
        "email_needs_agreement": False,
        "is_email_valid": True,
        "is_email_verified": True,
        "email": "sample@sample.com",
        "name_needs_agreement": False,
        "name": "홍길동",
        "age_range_needs_agreement": False,
        "age_range": "20~29",
        "birthday_needs_agreement": False,
        "birthday": "1130",
        "birthday_type": "SOLAR",
        "gender_needs_agreement": False,
        "gender": "female",
    },
    "for_partner": {"uuid": "BOYgCwY8DzsMPwg6DDoLOwo5DzoPOQ0_DD4LPQ"},
}


class FakeKakao(FakeProvider):
    """Kakao: OAuth 2.0 with optional OIDC; a form-only token endpoint and KOE error codes."""

    name = "kakao"
    label = "Kakao"
    authorize_path = "/oauth/authorize"
    default_user = KAKAO_USER
    access_ttl = 21599
    refresh_ttl = 5183999
    app_id = 1234
    admin_key = "fake-kakao-admin-key"
    routes = {
        "/oauth/authorize": Route(("GET", "POST"), "authorize", False),
        "/oauth/token": Route(("POST",), "token", True),
        "/v2/user/me": Route(("GET", "POST"), "me", True),
        "/v1/user/logout": Route(("POST",), "logout", True),
        "/v1/user/unlink": Route(("POST",), "unlink", True),
        "/v1/user/access_token_info": Route(("GET",), "token_info", True),
        "/.well-known/openid-configuration": Route(("GET",), "discovery", False),
        "/.well-known/jwks.json": Route(("GET",), "certs", True),
        "/v1/oidc/userinfo": Route(("GET", "POST"), "oidc_userinfo", True),
        # Not Kakao's: what the Kakao SDK hands a mobile app, for trying native sign-in.
        "/sdk/login": Route(("POST",), "sdk_login_reply", False),
        # Not Kakao's: makes the fake send its unlink webhook (form `url`, `user_id`).
        "/test/send-unlink": Route(("POST",), "send_unlink_reply", False),
    }

    refresh_rotates: bool
    native_app_key: str

    def reset(self) -> None:
        with self._lock:
            super().reset()
            self.refresh_rotates = False
            self.native_app_key = "fake-kakao-native-app-key"
            self.admin_key = "fake-kakao-admin-key"
            self._token_apps: dict[str, int] = {}  # access tokens of other apps than app_id

    def new_code(self) -> str:
        return secrets.token_urlsafe(64)

    def error(self, status: int, error: str, description: str, code: str | None = None) -> Reply:
        body = {"error": error, "error_description": description}
        if code is not None:
            body["error_code"] = code
        return json_reply(status, body)

    def bad_input(self, subpath: str, message: str) -> Reply:
        if subpath.startswith("/v"):  # kapi.kakao.com answers in its own shape
            return json_reply(400, {"msg": message, "code": -2})
        return self.error(400, "invalid_request", message)

    def unauthorized(self) -> Reply:
        return json_reply(401, {"msg": "this access token does not exist", "code": -401})

    def discovery(self, request: Incoming) -> Reply:
        return json_reply(
            200,
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.base}/oauth/authorize",
                "token_endpoint": f"{self.base}/oauth/token",
                "userinfo_endpoint": f"{self.base}/v1/oidc/userinfo",
                "jwks_uri": f"{self.base}/.well-known/jwks.json",
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
                "subject_types_supported": ["public"],
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "request_uri_parameter_supported": False,
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "claims_supported": KAKAO_CLAIMS,
            },
        )

    def authorize_problem(self, params: dict[str, str]) -> Reply | None:
        problem = super().authorize_problem(params)
        if problem is None and params.get("code_challenge"):
            if params.setdefault("code_challenge_method", "S256") != "S256":
                problem = self.error(400, "invalid_request", "code_challenge_method must be S256")
        return problem

    def grant_from(self, params: dict[str, str]) -> Grant:
        grant = super().grant_from(params)
        if "scope" not in params:  # Kakao then asks for the app's configured consent items
            grant.scope = ["profile_nickname", "profile_image", "account_email"]
        return grant

    def denied(self, params: dict[str, str]) -> Reply:
        answer = {"error": "access_denied", "error_description": "User denied access"}
        if "state" in params:
            answer["state"] = params["state"]
        return redirect(params["redirect_uri"], answer, quote_via=quote)

    def account(self) -> dict[str, Any]:
        account = self.user.get("kakao_account")
        return account if isinstance(account, dict) else {}

    def person(self) -> tuple[str, str]:
        return str(self.nickname() or self.user.get("id", "")), str(self.account().get("email", ""))

    def nickname(self) -> Any:
        profile = self.account().get("profile")
        properties = self.user.get("properties")
        if isinstance(profile, dict) and profile.get("nickname"):
            return profile["nickname"]
        return properties.get("nickname") if isinstance(properties, dict) else None

    def picture(self) -> Any:
        profile = self.account().get("profile")
        properties = self.user.get("properties")
        if isinstance(profile, dict) and profile.get("profile_image_url"):
            return profile["profile_image_url"]
        return properties.get("profile_image") if isinstance(properties, dict) else None

    def token(self, request: Incoming) -> Reply:
        fault = self.overridden(self.token_error)
        if fault is not None:
            return fault
        if request.media_type != FORM:
            return self.error(
                400, "invalid_request", f"Content-Type must be {FORM}, not {request.media_type!r}"
            )
        form = request.form
        grant_type = form.get("grant_type", "")
        if grant_type not in ("authorization_code", "refresh_token"):
            return self.error(400, "invalid_request", f"unsupported grant_type: {grant_type}")
        secret_ok = not self.client_secret or same(
            form.get("client_secret", ""), self.client_secret
        )
        if form.get("client_id") != self.client_id or not secret_ok:
            return self.error(401, "invalid_client", "Bad client credentials", "KOE010")
        if grant_type == "refresh_token":
            return self.refresh(form)
        code = form.get("code", "")
        grant = self.take_code(code) if code else None
        if grant is None:
            return self.error(
                400, "invalid_grant", f"authorization code not found for code={code}", "KOE320"
            )
        if form.get("redirect_uri") != grant.redirect_uri:
            return self.error(400, "invalid_grant", "redirect_uri mismatch")
        if grant.code_challenge:
            verifier = form.get("code_verifier")
            if not verifier:
                return self.error(400, "invalid_grant", "code_verifier is required")
            if not grant.pkce_matches(verifier):
                return self.error(400, "invalid_grant", "PKCE verification failed")
        family = secrets.token_hex(8)
        access = self.issue_access(grant, family)
        body: dict[str, Any] = {"token_type": "bearer", "access_token": access}
        if "openid" in grant.scope:
            body["id_token"] = self.id_token(grant, access, nonce=grant.nonce)
        body.update(
            expires_in=self.access_ttl,
            refresh_token=self.issue_refresh(grant, family),
            refresh_token_expires_in=self.refresh_ttl,
            scope=" ".join(grant.scope),
        )
        return json_reply(200, body)

    def refresh(self, form: dict[str, str]) -> Reply:
        """No new refresh token unless `refresh_rotates` (Kakao's "less than a month left")."""
        old = form.get("refresh_token")
        issued = self.live_refresh(old)
        if old is None or issued is None:
            return self.error(400, "invalid_grant", "invalid refresh token", "KOE322")
        access = self.issue_access(issued.grant, issued.family)
        body: dict[str, Any] = {"token_type": "bearer", "access_token": access}
        if "openid" in issued.grant.scope:
            body["id_token"] = self.id_token(issued.grant, access, nonce=None)
        body["expires_in"] = self.access_ttl
        if self.refresh_rotates:
            del self._refresh[old]
            body["refresh_token"] = self.issue_refresh(issued.grant, issued.family)
            body["refresh_token_expires_in"] = self.refresh_ttl
        return json_reply(200, body)

    def id_token(self, grant: Grant, access_token: str, *, nonce: str | None) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "aud": grant.client_id,
            "sub": str(self.user.get("id")),
            "auth_time": grant.auth_time,
            "iss": self.issuer,
            "exp": now + 3600,
            "iat": now,
            "at_hash": at_hash(access_token),
        }
        if nonce is not None:
            claims["nonce"] = nonce
        for name, value in (
            ("nickname", self.nickname()),
            ("picture", self.picture()),
            ("email", self.account().get("email")),
        ):
            if value is not None:
                claims[name] = value
        return self.sign(claims)

    def me(self, request: Incoming) -> Reply:
        fault = self.overridden(self.profile_error)
        if fault is not None:
            return fault
        if self.live_access(request.bearer()) is None:
            return self.unauthorized()
        return json_reply(200, self.user)

    def logout(self, request: Incoming) -> Reply:
        """Logout and unlink: both expire the user's tokens and answer the user's id."""
        if self.live_access(request.bearer()) is None:
            return self.unauthorized()
        self.revoke_all()
        return json_reply(200, {"id": self.user.get("id")})

    def unlink(self, request: Incoming) -> Reply:
        """With the user's token, as logout; with the app's admin key (`KakaoAK`), the user
        named by `target_id_type=user_id` and `target_id`, whose id it answers."""
        scheme, _, key = (request.authorization or "").strip().partition(" ")
        if scheme != "KakaoAK":
            return self.logout(request)
        if not secrets.compare_digest(key.strip().encode(), self.admin_key.encode()):
            return json_reply(401, {"msg": "wrong appKey(KakaoAK) type", "code": -401})
        form = request.form
        if form.get("target_id_type") != "user_id" or not form.get("target_id", "").isdigit():
            return json_reply(400, {"msg": "target_id_type or target_id is invalid", "code": -2})
        if form["target_id"] != str(self.user.get("id")):
            return json_reply(400, {"msg": "NotRegisteredUserException", "code": -101})
        self.revoke_all()
        return json_reply(200, {"id": self.user.get("id")})

    def token_info(self, request: Incoming) -> Reply:
        issued = self.live_access(request.bearer())
        if issued is None:
            return self.unauthorized()
        app_id = self._token_apps.get(request.bearer() or "", self.app_id)
        body = {"id": self.user.get("id"), "expires_in": issued.expires_in(), "app_id": app_id}
        return json_reply(200, body)

    def sdk_login(
        self, *, nonce: str | None = None, app_key: str | None = None, app_id: int | None = None
    ) -> dict[str, Any]:
        """What `loginWithKakaoTalk(nonce:)` gives an app: Kakao's tokens, the id_token's `aud`
        the native app key (`app_key`: another app's), the access token of app `app_id`."""
        with self._lock:
            grant = Grant(
                client_id=app_key or self.native_app_key, redirect_uri="",
                scope=KAKAO_SCOPES.split(), nonce=nonce, code_challenge=None,
                code_challenge_method=None, state=None, params={}, auth_time=int(time.time()),
            )  # fmt: skip
            family = secrets.token_hex(8)
            access = self.issue_access(grant, family)
            if app_id is not None and app_id != self.app_id:
                self._token_apps[access] = app_id
            return {
                "access_token": access,
                "expires_in": self.access_ttl,
                "refresh_token": self.issue_refresh(grant, family),
                "refresh_token_expires_in": self.refresh_ttl,
                "id_token": self.id_token(grant, access, nonce=nonce),
                "scopes": grant.scope,
            }

    def sdk_login_reply(self, request: Incoming) -> Reply:
        """POST nonce (and app_key, app_id for another app's): sdk_login over HTTP."""
        form = request.form
        app_id = form.get("app_id", "")
        return json_reply(
            200,
            self.sdk_login(
                nonce=form.get("nonce") or None,
                app_key=form.get("app_key") or None,
                app_id=int(app_id) if app_id.isdigit() else None,
            ),
        )

    def oidc_userinfo(self, request: Incoming) -> Reply:
        fault = self.overridden(self.profile_error)
        if fault is not None:
            return fault
        if self.live_access(request.bearer()) is None:
            return self.unauthorized()
        account = self.account()
        body: dict[str, Any] = {"sub": str(self.user.get("id"))}
        for name, value in (("nickname", self.nickname()), ("picture", self.picture())):
            if value is not None:
                body[name] = value
        if account.get("email") is not None:
            body["email"] = account["email"]
            body["email_verified"] = bool(
                account.get("is_email_valid") and account.get("is_email_verified")
            )
        return json_reply(200, body)

    def send_unlink(
        self, url: str, *, user_id: str | None = None, referrer_type: str = "UNLINK_FROM_APPS",
        method: str = "POST", admin_key: str | None = None, app_id: str | None = None,
    ) -> int:  # fmt: skip
        """Kakao's unlink webhook to `url` (providers.md §6.1), by the method the app's settings
        at Kakao name; the status it got."""
        params = {
            "app_id": app_id if app_id is not None else str(self.app_id),
            "user_id": user_id if user_id is not None else str(self.user.get("id")),
            "referrer_type": referrer_type,
        }
        key = admin_key if admin_key is not None else self.admin_key
        return send_notice(url, method, params, {"Authorization": f"KakaoAK {key}"})

    def send_unlink_reply(self, request: Incoming) -> Reply:
        form = request.form
        status = self.send_unlink(form.get("url", ""), user_id=form.get("user_id") or None)
        return json_reply(200, {"status": status})
