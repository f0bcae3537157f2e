"""The fake Naver: classic OAuth 2.0 with `state` at both ends, token errors as HTTP 200, a
string `expires_in`, and both the legacy and the current revoke."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .base import (
    FakeProvider,
    Incoming,
    Reply,
    Route,
    b64url,
    json_reply,
    redirect,
    same,
)
from .notices import send_notice

NAVER_USER: dict[str, Any] = {
    "id": "32742776",
    "nickname": "OpenAPI",
    "name": "오픈 API",
    "email": "openapi@naver.com",
    "profile_image": "https://ssl.pstatic.net/static/pwe/address/nodata_33x33.gif",
}


class FakeNaver(FakeProvider):
    """Naver: classic OAuth 2.0; `state` at both ends, errors as HTTP 200, string expires_in."""

    name = "naver"
    label = "Naver"
    authorize_path = "/oauth2.0/authorize"
    default_user = NAVER_USER
    access_ttl = 3600
    refresh_ttl = 365 * 86400
    routes = {
        "/oauth2.0/authorize": Route(("GET", "POST"), "authorize", False),
        "/oauth2.0/token": Route(("GET", "POST"), "token", True),
        "/oauth2.0/revoke": Route(("POST",), "revoke", True),
        "/v1/nid/me": Route(("GET", "POST"), "profile", True),
        # Not Naver's: makes the fake send its unlink callback (form `url`, `uid`).
        "/test/send-unlink": Route(("POST",), "send_unlink_reply", False),
    }

    def new_code(self) -> str:
        return secrets.token_urlsafe(12)

    def new_access_token(self) -> str:
        # Real ones are standard base64 with + / =, which callers must URL-encode in queries.
        body = base64.b64encode(secrets.token_bytes(47)).decode()
        return f"AAAA{body[:20]}+/{body[20:]}"

    def new_refresh_token(self) -> str:
        return secrets.token_urlsafe(24)

    def error_200(self, error: str, description: str) -> Reply:
        """Naver's token endpoint reports errors with HTTP 200; only the body tells."""
        return json_reply(200, {"error": error, "error_description": description})

    def authorize_problem(self, params: dict[str, str]) -> Reply | None:
        problem = super().authorize_problem(params)
        if problem is None and not params.get("state"):
            problem = self.bad_input(self.authorize_path, "missing state")
        return problem

    def denied(self, params: dict[str, str]) -> Reply:
        answer = {
            "state": params.get("state", ""),
            "error": "access_denied",
            "error_description": "Canceled By User",
        }
        return redirect(params["redirect_uri"], answer)

    def person(self) -> tuple[str, str]:
        name = self.user.get("name") or self.user.get("nickname") or self.user.get("id", "")
        return str(name), str(self.user.get("email", ""))

    def client_ok(self, params: dict[str, str]) -> bool:
        return params.get("client_id") == self.client_id and same(
            params.get("client_secret", ""), self.client_secret
        )

    def token(self, request: Incoming) -> Reply:
        fault = self.overridden(self.token_error)
        if fault is not None:
            return fault
        params = request.params
        if not self.client_ok(params):
            return self.error_200("invalid_client", "wrong client id / client secret pair")
        grant_type = params.get("grant_type", "")
        if grant_type == "authorization_code":
            return self.exchange(params)
        if grant_type == "refresh_token":
            issued = self.live_refresh(params.get("refresh_token"))
            if issued is None:
                return self.error_200("invalid_request", "invalid refresh_token")
            access = self.issue_access(issued.grant, issued.family)
            return json_reply(
                200, {"access_token": access, "token_type": "bearer", "expires_in": "3600"}
            )
        if grant_type == "delete":
            return self.delete(params)
        return self.error_200("invalid_request", f"unsupported grant_type: {grant_type}")

    def exchange(self, params: dict[str, str]) -> Reply:
        code, state = params.get("code"), params.get("state")
        if not code or not state:
            return self.error_200("invalid_request", "code and state are required")
        grant = self.take_code(code)
        if grant is None or grant.state != state or grant.client_id != params["client_id"]:
            return self.error_200("invalid_request", "no valid data in session")
        family = secrets.token_hex(8)
        return json_reply(
            200,
            {
                "access_token": self.issue_access(grant, family),
                "refresh_token": self.issue_refresh(grant, family),
                "token_type": "bearer",
                "expires_in": "3600",
            },
        )

    def delete(self, params: dict[str, str]) -> Reply:
        """The legacy revoke: "success" even for tokens it does not know."""
        if params.get("service_provider") != "NAVER":
            return self.error_200("invalid_request", "service_provider must be NAVER")
        token = params.get("access_token")
        if not token:
            return self.error_200("invalid_request", "access_token is required")
        issued = self.live_access(token)
        if issued is not None:
            self.revoke_family(issued.family)
        return json_reply(200, {"access_token": token, "result": "success"})

    def revoke(self, request: Incoming) -> Reply:
        """The current revoke: 200 with an empty body, known token or not."""
        params = request.params
        for name in ("client_id", "client_secret", "token"):
            if not params.get(name):
                return json_reply(
                    400, {"error": "invalid_request", "error_description": f"missing {name}"}
                )
        if not self.client_ok(params):
            return json_reply(
                401,
                {
                    "error": "unauthorized_client",
                    "error_description": "Client authentication failed.",
                },
            )
        token = params["token"]
        issued = self.live_access(token) or self.live_refresh(token)
        if issued is not None:
            self.revoke_family(issued.family)
        return Reply(200)

    def profile(self, request: Incoming) -> Reply:
        fault = self.overridden(self.profile_error)
        if fault is not None:
            return fault
        if request.authorization is None:
            return json_reply(
                401, {"resultcode": "028", "message": "Authentication header not exists"}
            )
        if self.live_access(request.bearer()) is None:
            return json_reply(401, {"resultcode": "024", "message": "Authentication failed"})
        return json_reply(200, {"resultcode": "00", "message": "success", "response": self.user})

    def unlink_form(
        self, *, uid: str | None = None, secret: str | None = None, timestamp: int | None = None
    ) -> dict[str, str]:
        """Naver's unlink callback form (providers.md §6.2): the id AES-128-CBC encrypted and
        the form HMAC-SHA256 signed, both keyed by MD5 of the client secret."""
        key = hashlib.md5((secret or self.client_secret).encode()).digest()  # noqa: S324
        padder = padding.PKCS7(128).padder()
        person = uid if uid is not None else str(self.user.get("id"))
        plain = padder.update(person.encode()) + padder.finalize()
        iv = secrets.token_bytes(16)
        encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        encrypted = b64url(iv + encryptor.update(plain) + encryptor.finalize())
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        base = f"clientId={self.client_id}&encryptUniqueId={encrypted}&timestamp={stamp}"
        signature = b64url(hmac.new(key, base.encode(), hashlib.sha256).digest())
        return {
            "clientId": self.client_id, "encryptUniqueId": encrypted, "timestamp": stamp,
            "signature": signature,
        }  # fmt: skip

    def send_unlink(self, url: str, form: dict[str, str] | None = None, **made: Any) -> int:
        """POST the unlink callback (`form`, or one made by unlink_form) to `url`."""
        return send_notice(url, "POST", form or self.unlink_form(**made), {})

    def send_unlink_reply(self, request: Incoming) -> Reply:
        form = request.form
        status = self.send_unlink(form.get("url", ""), uid=form.get("uid") or None)
        return json_reply(200, {"status": status})
