"""Loopback fakes of Google, Naver and Kakao, speaking their wire formats (providers.md §5).

One `ThreadingHTTPServer` on 127.0.0.1 serves all three under the path prefixes /google, /naver
and /kakao, so the sign-in code meets the same JSON shapes, statuses and quirks it meets upstream
(Naver's HTTP 200 errors and string `expires_in`, Kakao's KOE codes and form-only token endpoint,
Google's two issuer spellings) with no internet. Tests flip switches on a provider (`deny`,
`delay`, `drip`, `token_error`, `id_token_claims`, …) to reproduce an upstream's bad day, and read
`requests` to see exactly what the client sent.

Standard library plus joserfc only, and no Django: the fakes run in any process.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import html
import json
import re
import secrets
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, NamedTuple
from urllib.parse import parse_qsl, quote, quote_plus, unquote_plus, urlencode, urlsplit, urlunsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

KID = "k1"
FORM = "application/x-www-form-urlencoded"
MAX_BODY = 1 << 20
CODE_TTL = 600
KAKAO_SCOPES = "openid profile_nickname profile_image account_email"
GOOGLE_CLAIMS = (
    "aud email email_verified exp family_name given_name iat iss name picture sub".split()
)
KAKAO_CLAIMS = "iss aud sub auth_time exp iat nonce nickname picture email".split()

GOOGLE_USER: dict[str, Any] = {
    "sub": "110169484474386276334",
    "email": "jane@example.com",
    "email_verified": True,
    "name": "Jane Doe",
    "given_name": "Jane",
    "family_name": "Doe",
    "picture": "https://lh3.googleusercontent.com/a/jane",
}

NAVER_USER: dict[str, Any] = {
    "id": "32742776",
    "nickname": "OpenAPI",
    "name": "오픈 API",
    "email": "openapi@naver.com",
    "profile_image": "https://ssl.pstatic.net/static/pwe/address/nodata_33x33.gif",
}

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


# --- Requests and replies --------------------------------------------------------------------


@dataclass
class Recorded:
    """One request a fake received, as the test wants to read it back."""

    method: str
    path: str  # without the query, e.g. "/naver/oauth2.0/token"
    query: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] = field(default_factory=dict)  # a urlencoded body, else {}
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names


@dataclass
class Incoming:
    """A request as a provider judges it: the record, plus the raw body and its media type."""

    recorded: Recorded
    body: bytes
    media_type: str  # the Content-Type without parameters, lower-cased

    @property
    def query(self) -> dict[str, str]:
        return self.recorded.query

    @property
    def form(self) -> dict[str, str]:
        return self.recorded.form

    @property
    def params(self) -> dict[str, str]:
        """Query and form together (form wins), for endpoints that take either."""
        return {**self.recorded.query, **self.recorded.form}

    @property
    def authorization(self) -> str | None:
        return self.recorded.headers.get("authorization")

    def bearer(self) -> str | None:
        """The bearer token, or None when the header is missing or of another scheme."""
        scheme, _, token = (self.authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer":
            return None
        return token.strip() or None


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    drip: float = 0.0  # seconds between the body's bytes


def json_reply(status: int, data: Any, headers: dict[str, str] | None = None) -> Reply:
    """`data` as JSON in UTF-8; `bytes` are sent as they are (a body no encoder would write).
    A lone surrogate goes out as JSON's \\uXXXX escape, as a server that cut a string mid-emoji
    would send it."""
    if isinstance(data, bytes):
        body = data
    else:
        body = json.dumps(data, ensure_ascii=False).encode("utf-8", "backslashreplace")
    return Reply(status, body, "application/json; charset=utf-8", headers or {})


def redirect(uri: str, params: dict[str, str], *, quote_via: Any = quote_plus) -> Reply:
    """A 302 to `uri` with `params` added to whatever query it already has."""
    parts = urlsplit(uri)
    extra = urlencode(params, quote_via=quote_via)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return Reply(302, headers={"Location": urlunsplit(parts._replace(query=query))})


class BadInput(Exception):
    """Input too malformed to judge; answered 400 in the provider's error shape."""


def parse_pairs(text: str) -> dict[str, str]:
    """Single-valued parameters (the first of repeated ones), strictly decoded."""
    try:
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=200)
    except ValueError as error:  # includes UnicodeDecodeError
        raise BadInput(f"malformed parameters: {error}") from None
    values: dict[str, str] = {}
    for name, value in pairs:
        values.setdefault(name, value)
    return values


def same(a: str, b: str) -> bool:
    """Constant-time comparison that also copes with non-ASCII input."""
    return hmac.compare_digest(a.encode(), b.encode())


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def at_hash(access_token: str) -> str:
    """OIDC Core §3.1.3.6: the left half of the SHA-256 of the access token, base64url."""
    return b64url(hashlib.sha256(access_token.encode()).digest()[:16])


def generate_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": KID, "alg": "RS256", "use": "sig"})


def split_scope(scope: str) -> list[str]:
    return [item for item in re.split(r"[,\s]+", scope) if item]


# --- What a code and a token remember --------------------------------------------------------


@dataclass
class Grant:
    """What one authorization request asked for; its code and tokens remember it."""

    client_id: str
    redirect_uri: str
    scope: list[str]
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    state: str | None
    params: dict[str, str]  # every authorize parameter, as sent
    auth_time: int

    def pkce_matches(self, verifier: str) -> bool:
        if self.code_challenge_method == "S256":
            computed = b64url(hashlib.sha256(verifier.encode()).digest())
        else:
            computed = verifier
        return same(computed, self.code_challenge or "")


@dataclass
class Issued:
    """A live token. Tokens from one code share a family: revoking one revokes them all."""

    grant: Grant
    family: str
    expires_at: float

    def expires_in(self) -> int:
        return max(0, int(self.expires_at - time.time()))


class Route(NamedTuple):
    methods: tuple[str, ...]
    handler: str  # the provider method's name
    back_channel: bool  # a server-to-server call, slowed by `delay`


# --- The common base ---------------------------------------------------------------------------


class FakeProvider:
    """The state and switches every fake has, the authorize flow with its approval page, and
    the bookkeeping of codes and tokens. Subclasses speak their provider's dialect."""

    name: ClassVar[str]
    label: ClassVar[str]
    routes: ClassVar[dict[str, Route]]
    authorize_path: ClassVar[str]
    default_user: ClassVar[dict[str, Any]]
    access_ttl: ClassVar[int]
    refresh_ttl: ClassVar[int]

    client_id: str
    client_secret: str
    user: dict[str, Any]
    auto_approve: bool
    deny: bool
    delay: float
    drip: float
    token_error: tuple[int, dict[str, Any] | bytes] | None
    profile_error: tuple[int, dict[str, Any] | bytes] | None
    id_token_claims: dict[str, Any]
    sign_with_wrong_key: bool
    requests: list[Recorded]

    def __init__(self, key: RSAKey | None = None, wrong_key: RSAKey | None = None) -> None:
        self.key = key or generate_key()
        self.wrong_key = wrong_key or generate_key()  # same kid, never published
        self.base = f"http://127.0.0.1/{self.name}"  # FakeProviders points it at the server
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Back to defaults: a fresh user profile, no faults, no codes, tokens or requests."""
        with self._lock:
            self.client_id = f"fake-{self.name}-client"
            self.client_secret = f"fake-{self.name}-secret"
            self.user = copy.deepcopy(self.default_user)
            self.auto_approve = False
            self.deny = False
            self.delay = 0.0
            self.drip = 0.0
            self.token_error = None
            self.profile_error = None
            self.id_token_claims = {}
            self.sign_with_wrong_key = False
            self.requests = []
            self._codes: dict[str, Grant] = {}
            self._access: dict[str, Issued] = {}
            self._refresh: dict[str, Issued] = {}

    # Dispatch

    def handle(
        self, method: str, subpath: str, raw_query: str, headers: dict[str, str], body: bytes
    ) -> Reply:
        """Record the request, parse it, and answer through the route's handler."""
        recorded = Recorded(method, f"/{self.name}{subpath}", headers=headers)
        with self._lock:
            self.requests.append(recorded)
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            recorded.query = parse_pairs(raw_query)
            if media_type == FORM:
                recorded.form = parse_pairs(body.decode("utf-8"))
        except (BadInput, UnicodeDecodeError) as error:
            return self.bad_input(subpath, str(error))
        route = self.routes.get(subpath)
        if route is None:
            return json_reply(404, {"error": "not_found", "error_description": recorded.path})
        if method not in route.methods:
            allow = {"Allow": ", ".join(route.methods)}
            return json_reply(405, {"error": "method_not_allowed"}, allow)
        if route.back_channel and self.delay > 0:
            time.sleep(self.delay)
        with self._lock:
            reply: Reply = getattr(self, route.handler)(Incoming(recorded, body, media_type))
        if route.back_channel and self.drip > 0:
            reply = replace(reply, drip=self.drip)
        return reply

    def bad_input(self, subpath: str, message: str) -> Reply:
        return json_reply(400, {"error": "invalid_request", "error_description": message})

    # Authorize, with the approval page

    def authorize(self, request: Incoming) -> Reply:
        """GET shows the approval page (or approves at once); its POST carries the decision."""
        params = request.params
        decision = params.pop("decision", None)
        problem = self.authorize_problem(params)
        if problem is not None:
            return problem
        if any(ord(char) < 32 for char in params["redirect_uri"]):
            return self.bad_input(self.authorize_path, "redirect_uri has control characters")
        if self.deny or decision == "cancel":
            return self.denied(params)
        if decision is None and not self.auto_approve:
            return self.approval_page(params)
        if decision not in (None, "approve"):
            return self.bad_input(self.authorize_path, "decision must be approve or cancel")
        grant = self.grant_from(params)
        code = self.new_code()
        self._codes[code] = grant
        return self.approved(grant, code)

    def authorize_problem(self, params: dict[str, str]) -> Reply | None:
        """The reply to an authorization request that cannot be redirected back, if it is one."""
        for name in ("client_id", "redirect_uri", "response_type"):
            if not params.get(name):
                return self.bad_input(self.authorize_path, f"missing {name}")
        if params["response_type"] != "code":
            return self.bad_input(self.authorize_path, "response_type must be code")
        if params["client_id"] != self.client_id:
            return self.bad_input(self.authorize_path, "unknown client_id")
        return None

    def grant_from(self, params: dict[str, str]) -> Grant:
        return Grant(
            client_id=params["client_id"],
            redirect_uri=params["redirect_uri"],
            scope=split_scope(params.get("scope", "")),
            nonce=params.get("nonce") or None,
            code_challenge=params.get("code_challenge") or None,
            code_challenge_method=params.get("code_challenge_method") or None,
            state=params.get("state"),
            params=dict(params),
            auth_time=int(time.time()),
        )

    def approved(self, grant: Grant, code: str) -> Reply:
        params = {"code": code}
        if grant.state is not None:
            params["state"] = grant.state
        return redirect(grant.redirect_uri, params)

    def denied(self, params: dict[str, str]) -> Reply:
        raise NotImplementedError

    def person(self) -> tuple[str, str]:
        """The test user's display name and email, for the approval page."""
        raise NotImplementedError

    def approval_page(self, params: dict[str, str]) -> Reply:
        """A small page in place of the provider's sign-in and consent screens."""
        name, email = (html.escape(value) for value in self.person())
        label = html.escape(self.label)
        hidden = "\n".join(
            f'      <input type="hidden" name="{html.escape(key)}" value="{html.escape(value)}">'
            for key, value in params.items()
        )
        page = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{label} (local fake)</title>
  <style>
    body {{ margin: 0; min-height: 100vh; display: grid; place-items: center;
      font: 16px/1.5 system-ui, sans-serif; background: #f4f4f5; color: #18181b; }}
    main {{ max-width: 26rem; padding: 2rem; background: #fff; border: 1px solid #e4e4e7;
      border-radius: 12px; box-shadow: 0 1px 3px rgb(0 0 0 / 8%); }}
    h1 {{ margin: 0 0 .5rem; font-size: 1.3rem; }}
    .note {{ margin: 0; color: #52525b; font-size: .9rem; }}
    .person {{ margin: 1.25rem 0; padding: .75rem 1rem; background: #fafafa;
      border: 1px solid #e4e4e7; border-radius: 8px; }}
    .person span {{ display: block; color: #52525b; font-size: .9rem; }}
    .actions {{ display: flex; gap: .5rem; }}
    button {{ font: inherit; padding: .55rem 1rem; border-radius: 8px; cursor: pointer;
      border: 1px solid #d4d4d8; background: #fff; color: #18181b; }}
    button.approve {{ background: #18181b; border-color: #18181b; color: #fff; }}
  </style>
</head>
<body>
  <main>
    <h1>Sign in with {label}</h1>
    <p class="note">This is a local fake of {label} for development and tests: no real account
      is used and nothing leaves this computer.</p>
    <div class="person"><strong>{name}</strong><span>{email}</span></div>
    <form method="post" action="/{self.name}{self.authorize_path}">
{hidden}
      <div class="actions">
        <button type="submit" name="decision" value="approve" class="approve"
          >Approve as test user</button>
        <button type="submit" name="decision" value="cancel">Cancel</button>
      </div>
    </form>
  </main>
</body>
</html>
"""
        return Reply(200, page.encode(), "text/html; charset=utf-8")

    # Codes and tokens

    def new_code(self) -> str:
        return secrets.token_urlsafe(32)

    def new_access_token(self) -> str:
        return secrets.token_urlsafe(40)

    def new_refresh_token(self) -> str:
        return secrets.token_urlsafe(40)

    def take_code(self, code: str) -> Grant | None:
        """The code's grant, once: a code is gone after its first presentation."""
        grant = self._codes.pop(code, None)
        if grant is None or grant.auth_time + CODE_TTL < time.time():
            return None
        return grant

    def issue_access(self, grant: Grant, family: str) -> str:
        token = self.new_access_token()
        self._access[token] = Issued(grant, family, time.time() + self.access_ttl)
        return token

    def issue_refresh(self, grant: Grant, family: str) -> str:
        token = self.new_refresh_token()
        self._refresh[token] = Issued(grant, family, time.time() + self.refresh_ttl)
        return token

    def live_access(self, token: str | None) -> Issued | None:
        issued = self._access.get(token) if token else None
        return issued if issued is not None and issued.expires_at > time.time() else None

    def live_refresh(self, token: str | None) -> Issued | None:
        issued = self._refresh.get(token) if token else None
        return issued if issued is not None and issued.expires_at > time.time() else None

    def revoke_family(self, family: str) -> None:
        for store in (self._access, self._refresh):
            for token in [token for token, issued in store.items() if issued.family == family]:
                del store[token]

    def revoke_all(self) -> None:
        self._access.clear()
        self._refresh.clear()

    # ID tokens

    @property
    def issuer(self) -> str:
        return self.base

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    def certs(self, request: Incoming) -> Reply:
        return json_reply(200, self.jwks())

    def sign(self, claims: dict[str, Any]) -> str:
        """Sign `claims` with `id_token_claims` merged over them (a None value drops a claim)."""
        merged = {**claims, **self.id_token_claims}
        merged = {name: value for name, value in merged.items() if value is not None}
        key = self.wrong_key if self.sign_with_wrong_key else self.key
        return jwt.encode({"alg": "RS256", "kid": KID, "typ": "JWT"}, merged, key)

    def overridden(self, fault: tuple[int, dict[str, Any] | bytes] | None) -> Reply | None:
        return json_reply(fault[0], fault[1]) if fault is not None else None


# --- Google ------------------------------------------------------------------------------------


def google_scope(scope: list[str]) -> str:
    """Google answers `email` and `profile` spelled as URLs (providers.md §1.3)."""
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
    }

    issuer_spelling: str

    def reset(self) -> None:
        with self._lock:
            super().reset()
            self.issuer_spelling = "url"
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


# --- Naver -------------------------------------------------------------------------------------


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


# --- Kakao -------------------------------------------------------------------------------------


class FakeKakao(FakeProvider):
    """Kakao: OAuth 2.0 with optional OIDC; a form-only token endpoint and KOE error codes."""

    name = "kakao"
    label = "Kakao"
    authorize_path = "/oauth/authorize"
    default_user = KAKAO_USER
    access_ttl = 21599
    refresh_ttl = 5183999
    app_id = 1234
    routes = {
        "/oauth/authorize": Route(("GET", "POST"), "authorize", False),
        "/oauth/token": Route(("POST",), "token", True),
        "/v2/user/me": Route(("GET", "POST"), "me", True),
        "/v1/user/logout": Route(("POST",), "logout", True),
        "/v1/user/unlink": Route(("POST",), "logout", True),
        "/v1/user/access_token_info": Route(("GET",), "token_info", True),
        "/.well-known/openid-configuration": Route(("GET",), "discovery", False),
        "/.well-known/jwks.json": Route(("GET",), "certs", True),
        "/v1/oidc/userinfo": Route(("GET", "POST"), "oidc_userinfo", True),
    }

    refresh_rotates: bool

    def reset(self) -> None:
        with self._lock:
            super().reset()
            self.refresh_rotates = False

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

    def token_info(self, request: Incoming) -> Reply:
        issued = self.live_access(request.bearer())
        if issued is None:
            return self.unauthorized()
        body = {"id": self.user.get("id"), "expires_in": issued.expires_in(), "app_id": self.app_id}
        return json_reply(200, body)

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


# --- The server --------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], providers: dict[str, FakeProvider], verbose: bool
    ) -> None:
        self.providers = providers
        self.verbose = verbose
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up (a test that timed out on `delay`) is no news.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "FakeProviders/1.0"

    def do_GET(self) -> None:
        self.serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def serve(self) -> None:
        try:
            reply = self.reply()
        except Exception as error:  # the fake must keep serving, whatever it is sent
            description = f"{type(error).__name__}: {error}"
            reply = json_reply(500, {"error": "server_error", "error_description": description})
        self.send(reply)

    def reply(self) -> Reply:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if self.headers.get("Transfer-Encoding") or not 0 <= length <= MAX_BODY:
            self.close_connection = True
            return json_reply(400, {"error": "invalid_request", "error_description": "body"})
        body = self.rfile.read(length) if length else b""
        path, _, raw_query = self.path.partition("#")[0].partition("?")
        name, _, rest = path.removeprefix("/").partition("/")
        provider = self.server.providers.get(name) if path.startswith("/") else None
        if provider is None:
            return json_reply(404, {"error": "not_found", "error_description": path})
        headers = {key.lower(): value for key, value in self.headers.items()}
        return provider.handle(self.command, "/" + rest, raw_query, headers, body)

    def send(self, reply: Reply) -> None:
        try:
            self.send_response(reply.status)
            if reply.content_type:
                self.send_header("Content-Type", reply.content_type)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.send_header("Cache-Control", "no-store")
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if reply.drip:
                for byte in reply.body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(reply.drip)
            else:
                self.wfile.write(reply.body)
        except ConnectionError:
            self.close_connection = True


class FakeProviders:
    """One ThreadingHTTPServer on 127.0.0.1, path prefixes /google, /naver, /kakao."""

    google: FakeGoogle
    naver: FakeNaver
    kakao: FakeKakao
    url: str

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False) -> None:
        wrong_key = generate_key()
        self.google = FakeGoogle(generate_key(), wrong_key)
        self.naver = FakeNaver(wrong_key, wrong_key)  # Naver signs nothing
        self.kakao = FakeKakao(generate_key(), wrong_key)
        self.host = host
        self.verbose = verbose
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        # With a fixed port the URL is known before start() (`fakeproviders --env` needs it).
        self._point_at(f"http://{host}:{port}" if port else "")

    @property
    def providers(self) -> tuple[FakeGoogle, FakeNaver, FakeKakao]:
        return self.google, self.naver, self.kakao

    def _point_at(self, url: str) -> None:
        self.url = url
        for provider in self.providers:
            provider.base = f"{url}/{provider.name}"

    def start(self) -> None:
        """Bind and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("FakeProviders already started")
        port = int(self.url.rpartition(":")[2]) if self.url else 0
        server = _Server(
            (self.host, port), {p.name: p for p in self.providers}, verbose=self.verbose
        )
        self._server = server
        self._point_at(f"http://{self.host}:{server.server_address[1]}")
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            daemon=True,
            name="fake-providers",
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeProviders:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def reset(self) -> None:
        for provider in self.providers:
            provider.reset()

    def settings(self) -> dict[str, str]:
        """The authorization server's settings pointing at these fakes."""
        if not self.url:
            raise RuntimeError("start() first, or give a port")
        google, naver, kakao = (f"{self.url}/{p.name}" for p in self.providers)
        return {
            "GOOGLE_CLIENT_ID": self.google.client_id,
            "GOOGLE_CLIENT_SECRET": self.google.client_secret,
            "GOOGLE_AUTHORIZE_URL": f"{google}/o/oauth2/v2/auth",
            "GOOGLE_TOKEN_URL": f"{google}/token",
            "GOOGLE_USERINFO_URL": f"{google}/v1/userinfo",
            "GOOGLE_JWKS_URL": f"{google}/oauth2/v3/certs",
            "GOOGLE_ISSUER": google,
            "NAVER_CLIENT_ID": self.naver.client_id,
            "NAVER_CLIENT_SECRET": self.naver.client_secret,
            "NAVER_AUTHORIZE_URL": f"{naver}/oauth2.0/authorize",
            "NAVER_TOKEN_URL": f"{naver}/oauth2.0/token",
            "NAVER_PROFILE_URL": f"{naver}/v1/nid/me",
            "KAKAO_CLIENT_ID": self.kakao.client_id,
            "KAKAO_CLIENT_SECRET": self.kakao.client_secret,
            "KAKAO_SCOPES": KAKAO_SCOPES,
            "KAKAO_AUTHORIZE_URL": f"{kakao}/oauth/authorize",
            "KAKAO_TOKEN_URL": f"{kakao}/oauth/token",
            "KAKAO_PROFILE_URL": f"{kakao}/v2/user/me",
            "KAKAO_JWKS_URL": f"{kakao}/.well-known/jwks.json",
            "KAKAO_ISSUER": kakao,
        }
