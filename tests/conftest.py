"""Shared fixtures: factories for people and clients, PKCE, and a signed-in browser session."""

from __future__ import annotations

import base64
import hashlib
import secrets
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.db import connections
from django.test import Client as HttpClient
from django.utils import translation

from accounts.models import User
from oauth import clients, keys
from oauth.clients import client_create
from oauth.models import Client
from tests.mailserver import mailbox, smtp_down, smtp_server, smtp_silent

__all__ = ["mailbox", "smtp_down", "smtp_server", "smtp_silent"]  # fixtures for every module

PASSWORD = "correct horse battery staple"
REDIRECT_URI = "https://app.example.com/callback"


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    """Keys cached in the process and the shared cache must not outlive a test's database."""
    forget_process_caches()
    yield
    forget_process_caches()


def forget_process_caches() -> None:
    cache.clear()
    keys.key_ring_forget()
    clients.clients_forget()
    clients.clients_stamp.forget()


@pytest.fixture(autouse=True)
def default_language() -> Iterator[None]:
    """A request in Korean leaves Korean active in its thread; each test starts in English."""
    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture(scope="session", autouse=True)
def no_persistent_database_connections() -> None:
    """Live-server threads serve browsers' keep-alive connections; with persistent database
    connections they would still hold the test database when the run ends."""
    connections.settings["default"]["CONN_MAX_AGE"] = 0


@pytest.fixture(scope="session")
def password_hash() -> str:
    # Argon2 is deliberately slow; hash the test password once for every test person.
    return make_password(PASSWORD)


@pytest.fixture
def make_user(db: None, password_hash: str) -> Callable[..., User]:
    def make(username: str = "alice", **fields: Any) -> User:
        fields.setdefault("email", f"{username}@example.com")
        fields.setdefault("email_verified", True)
        fields.setdefault("first_name", username.title())
        fields.setdefault("last_name", "Example")
        fields.setdefault("password", password_hash)
        return User.objects.create(username=username, **fields)

    return make


@pytest.fixture
def user(make_user: Callable[..., User]) -> User:
    return make_user()


@dataclass
class RegisteredClient:
    """A client as its developer knows it: the row, plus the secret shown once."""

    model: Client
    secret: str | None

    @property
    def client_id(self) -> str:
        return self.model.client_id

    def change(self, **fields: Any) -> None:
        """Change the registration as an operator does: by saving it (which every process hears
        of; a bare UPDATE would bypass that)."""
        for name, value in fields.items():
            setattr(self.model, name, value)
        self.model.save()


@pytest.fixture
def make_client(db: None) -> Callable[..., RegisteredClient]:
    counter = iter(range(1, 1000))

    def make(
        *,
        name: str | None = None,
        redirect_uris: list[str] | None = None,
        public: bool = False,
        first_party: bool = False,
        scope: str | None = None,
        **fields: Any,
    ) -> RegisteredClient:
        client, secret = client_create(
            name=name or f"Test app {next(counter)}",
            redirect_uris=redirect_uris or [REDIRECT_URI],
            public=public,
            first_party=first_party,
            scope=scope,
        )
        registered = RegisteredClient(client, secret)
        if fields:
            registered.change(**fields)
        return registered

    return make


@pytest.fixture
def confidential_client(make_client: Callable[..., RegisteredClient]) -> RegisteredClient:
    return make_client(name="Photo printer")


@pytest.fixture
def public_client(make_client: Callable[..., RegisteredClient]) -> RegisteredClient:
    return make_client(name="Phone app", public=True)


@dataclass
class Pkce:
    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@pytest.fixture
def pkce() -> Pkce:
    return Pkce()


def basic_auth(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def query(url: str) -> dict[str, str]:
    """The single-valued query parameters of a redirect Location."""
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


class HttpsClient(HttpClient):
    """Django's test client, always over https, as browsers and clients reach the server."""

    def generic(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["secure"] = True
        return super().generic(*args, **kwargs)


@pytest.fixture
def browser(db: None) -> HttpClient:
    return HttpsClient()


@pytest.fixture
def signed_in(browser: HttpClient, user: User) -> HttpClient:
    """A browser whose person has signed in (the sign-in form itself is tested in test_pages)."""
    browser.force_login(user)
    return browser


def authorize_url(client: RegisteredClient, pkce: Pkce | None = None, **params: str) -> str:
    values = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.model.redirect_uris[0],
        "scope": "openid profile email",
        "state": secrets.token_urlsafe(8),
    }
    if pkce is not None:
        values.update(code_challenge=pkce.challenge, code_challenge_method="S256")
    values.update(params)
    return "/oauth/authorize?" + urlencode({k: v for k, v in values.items() if v is not None})


@pytest.fixture
def obtain_code(signed_in: HttpClient) -> Callable[..., str]:
    """Run authorize with consent as the signed-in person; return the code from the redirect."""

    def obtain(client: RegisteredClient, pkce: Pkce | None = None, **params: str) -> str:
        url = authorize_url(client, pkce, **params)
        response = signed_in.get(url)
        if response.status_code == 200:  # the consent page
            response = signed_in.post(url, {"decision": "allow"})
            assert response.status_code == 303, response.content  # RFC 9700 §4.12
        assert response.status_code in (302, 303), response.content
        return query(response["Location"])["code"]

    return obtain


@pytest.fixture
def token_request(browser: HttpClient) -> Callable[..., Any]:
    """POST to the token endpoint as a client would."""

    def post(data: dict[str, str], *, auth: tuple[str, str] | None = None, **headers: str) -> Any:
        if auth is not None:
            headers["HTTP_AUTHORIZATION"] = basic_auth(*auth)
        return browser.post(
            "/oauth/token", urlencode(data), "application/x-www-form-urlencoded", **headers
        )

    return post


@pytest.fixture
def code_for(obtain_code: Callable[..., str]) -> Callable[..., dict[str, str]]:
    """The token request's form for a fresh code of `client`; how the client authenticates is
    left to the test."""

    def make(client: RegisteredClient, pkce: Pkce | None = None) -> dict[str, str]:
        return {
            "grant_type": "authorization_code",
            "code": obtain_code(client, pkce),
            "redirect_uri": client.model.redirect_uris[0],
        }

    return make


@pytest.fixture
def exchange_code(token_request: Callable[..., Any]) -> Callable[..., Any]:
    """The token request that exchanges `code` for `client`'s tokens, as the client sends it."""

    def post(client: RegisteredClient, code: str, pkce: Pkce | None = None) -> Any:
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": client.model.redirect_uris[0],
        }
        if pkce is not None:
            data["code_verifier"] = pkce.verifier
        if client.secret is None:
            return token_request({**data, "client_id": client.client_id})
        return token_request(data, auth=(client.client_id, client.secret))

    return post


@pytest.fixture
def exchange(
    obtain_code: Callable[..., str], exchange_code: Callable[..., Any]
) -> Callable[..., dict[str, Any]]:
    """The whole front half: a code for `client`, exchanged for tokens."""

    def run(client: RegisteredClient, pkce: Pkce | None = None, **params: str) -> dict[str, Any]:
        response = exchange_code(client, obtain_code(client, pkce, **params), pkce)
        assert response.status_code == 200, response.content
        return response.json()

    return run


@pytest.fixture
def live(live_server: Any, settings: Any) -> str:
    """The live server's URL, which is also the issuer and the access tokens' audience."""
    settings.ISSUER = live_server.url
    settings.ACCESS_TOKEN_AUDIENCE = live_server.url
    return live_server.url


class LoopbackServer(ThreadingHTTPServer):
    # Daemon threads, so that a connection kept alive never holds up the end of a test.
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up (one refusing an answer too large, say) is no news.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


@pytest.fixture
def serve() -> Iterator[Callable[[type[BaseHTTPRequestHandler]], str]]:
    """Serve a handler on 127.0.0.1 at a free port until the test ends; gives the base URL."""
    servers: list[LoopbackServer] = []

    def start(handler: type[BaseHTTPRequestHandler]) -> str:
        httpd = LoopbackServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_port}"

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="session")
def fake_providers() -> Iterator[Any]:
    """Loopback fakes of Google, Naver and Kakao, real HTTP servers for the whole run."""
    from fakeproviders import FakeProviders

    fakes = FakeProviders()
    fakes.start()
    yield fakes
    fakes.stop()


# Settings read as lists from a space-separated variable (authserver/environment.py env_words).
LIST_SETTINGS = {"GOOGLE_NATIVE_CLIENT_IDS", "KAKAO_NATIVE_APP_KEY"}


@pytest.fixture
def upstream(fake_providers: Any, settings: Any) -> Any:
    """This server configured for the fakes, which start each test fresh and approve at once."""
    for name, value in fake_providers.settings().items():
        setattr(settings, name, value.split() if name in LIST_SETTINGS else value)
    fake_providers.reset()
    for fake in (fake_providers.google, fake_providers.naver, fake_providers.kakao):
        fake.auto_approve = True
    return fake_providers


def follow(session: Any, url: str, *, method: str = "GET", data: Any = None,
           until: Callable[[str], bool] = lambda url: False) -> Any:  # fmt: skip
    """Follow redirects like a browser (a `requests` session), stopping at a URL `until` picks:
    a third-party app's redirect_uri is nowhere to be reached."""
    from urllib.parse import urljoin

    while True:
        response = session.request(method, url, data=data, allow_redirects=False, timeout=15)
        location = response.headers.get("Location")
        if response.status_code not in (301, 302, 303) or not location:
            return response
        url = urljoin(url, location)
        if until(url):
            return response
        method, data = "GET", None
