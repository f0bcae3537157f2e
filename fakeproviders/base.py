"""What the fakes share: requests and replies, what a code and a token remember, and
`FakeProvider`; google.py, naver.py and kakao.py speak their providers' dialects over it."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, NamedTuple
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit, urlunsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

from .page import approval_page

KID = "k1"
FORM = "application/x-www-form-urlencoded"
CODE_TTL = 600


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
        return Reply(200, approval_page(self, params), "text/html; charset=utf-8")

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
