"""OpenID Connect Back-Channel Logout 1.0: when a session ends, each client that got tokens in
it and registered a backchannel_logout_uri receives a logout token by POST (§2.5), from the
worker, never while the person waits; the token (§2.4) verifies against the JWKS; a client
that is down gets it after it comes back; one that never answers is given up on, recorded."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import time_machine
from django.core.management import call_command
from django.test import Client as HttpClient
from joserfc import jwt
from joserfc.jwk import KeySet

from accounts.models import User
from events.models import SecurityEvent
from infra import outbox
from oauth.backchannel import LOGOUT_EVENT, logout_deliveries_run
from oauth.models import LogoutDelivery
from tests.conftest import PASSWORD, HttpsClient, LoopbackServer, RegisteredClient
from tests.mailserver import free_port


class LogoutReceiver(BaseHTTPRequestHandler):
    received: list[dict[str, list[str]]]

    def do_POST(self) -> None:  # noqa: N802  (http.server's naming)
        length = int(self.headers.get("Content-Length") or 0)
        self.received.append(parse_qs(self.rfile.read(length).decode()))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


class Receiver:
    """An app's back-channel logout endpoint on loopback, which can be down."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[dict[str, list[str]]] = []
        self.httpd: LoopbackServer | None = None

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}/backchannel-logout"

    def up(self) -> None:
        handler = type("Recorder", (LogoutReceiver,), {"received": self.received})
        self.httpd = LoopbackServer(("127.0.0.1", self.port), handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def tokens(self) -> list[str]:
        return [form["logout_token"][0] for form in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.up()
    yield receiver
    receiver.down()


@pytest.fixture
def app(make_client: Callable[..., RegisteredClient], receiver: Receiver) -> RegisteredClient:
    return make_client(name="Second app", backchannel_logout_uri=receiver.uri)


def test_signing_out_sends_a_logout_token_that_verifies_against_the_jwks(
    live: str, signed_in: HttpClient, app: RegisteredClient, receiver: Receiver,
    exchange: Callable[..., dict[str, Any]], user: User,
) -> None:  # fmt: skip
    sid = jwt.decode(exchange(app)["id_token"], _keys(live)).claims["sid"]

    signed_in.post("/accounts/logout/")
    assert receiver.received == []  # the person did not wait for the app
    assert logout_deliveries_run() == 1

    (token,) = receiver.tokens()
    decoded = jwt.decode(token, _keys(live))
    assert decoded.header["typ"] == "logout+jwt"
    claims = decoded.claims
    assert claims["iss"] == live and claims["aud"] == app.client_id
    assert claims["sub"] == str(user.pk) and claims["sid"] == sid
    assert claims["events"] == {LOGOUT_EVENT: {}}
    assert "nonce" not in claims and claims["exp"] > claims["iat"] and claims["jti"]
    assert logout_deliveries_run() == 0  # at most once


def _keys(live: str) -> KeySet:
    return KeySet.import_key_set(requests.get(f"{live}/oauth/jwks", timeout=10).json())


def test_a_client_that_is_down_receives_it_after_it_comes_back(
    signed_in: HttpClient, app: RegisteredClient, receiver: Receiver,
    exchange: Callable[..., dict[str, Any]],
) -> None:  # fmt: skip
    exchange(app)
    receiver.down()
    signed_in.post("/accounts/logout/")

    assert logout_deliveries_run() == 0
    delivery = LogoutDelivery.objects.get()
    assert delivery.attempts == 1 and delivery.delivered_at is None
    receiver.up()
    assert logout_deliveries_run() == 0  # not due yet: it waits before trying again
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=outbox.FIRST_WAIT + 1)):
        assert logout_deliveries_run() == 1

    (token,) = receiver.tokens()
    assert jwt.decode(token, _verifying_keys()).claims["jti"] == delivery.jti


def _verifying_keys() -> KeySet:
    from oauth.keys import published_jwks

    return KeySet.import_key_set(published_jwks())


def test_a_client_that_never_answers_is_given_up_on_and_recorded(
    signed_in: HttpClient, app: RegisteredClient, receiver: Receiver,
    exchange: Callable[..., dict[str, Any]],
) -> None:  # fmt: skip
    exchange(app)
    receiver.down()
    signed_in.post("/accounts/logout/")

    at = datetime.now(UTC)
    for _ in range(outbox.ATTEMPTS):
        with time_machine.travel(at):
            logout_deliveries_run()
        at += timedelta(seconds=outbox.LONGEST_WAIT + 1)

    delivery = LogoutDelivery.objects.get()
    assert delivery.given_up_at is not None and delivery.attempts == outbox.ATTEMPTS
    event = SecurityEvent.objects.get(kind="logout_undelivered")
    assert event.client_id == app.model.pk


def test_only_clients_that_got_tokens_in_the_session_are_told(
    make_client: Callable[..., RegisteredClient], receiver: Receiver, user: User,
    exchange: Callable[..., dict[str, Any]], signed_in: HttpClient,
) -> None:  # fmt: skip
    told = make_client(name="Told", backchannel_logout_uri=receiver.uri)
    make_client(name="Never used", backchannel_logout_uri=receiver.uri)
    exchange(told)
    exchange(told)  # two grants in one session: one token
    elsewhere = HttpsClient()
    elsewhere.post("/accounts/login/", {"username": "alice", "password": PASSWORD})

    elsewhere.post("/accounts/sessions/end-others")
    call_command("logoutworker", "--once")

    assert len(receiver.tokens()) == 1
    assert jwt.decode(receiver.tokens()[0], _verifying_keys()).claims["aud"] == told.client_id


def test_a_client_disabled_meanwhile_is_sent_nothing(
    signed_in: HttpClient, app: RegisteredClient, receiver: Receiver,
    exchange: Callable[..., dict[str, Any]],
) -> None:  # fmt: skip
    exchange(app)
    signed_in.post("/accounts/logout/")
    app.change(is_active=False)

    logout_deliveries_run()

    assert receiver.received == []


@pytest.mark.parametrize(
    "uri", ["http://app.example.com/logout", "https://app.example.com/logout#x", "ftp://a.example/"]
)
def test_a_backchannel_logout_uri_must_be_https_or_loopback(
    make_client: Callable[..., RegisteredClient], uri: str
) -> None:
    from django.core.exceptions import ValidationError

    client = make_client().model
    client.backchannel_logout_uri = uri

    with pytest.raises(ValidationError):
        client.full_clean()


def test_the_person_is_signed_out_whatever_the_clients_do(
    signed_in: HttpClient, app: RegisteredClient, receiver: Receiver,
    exchange: Callable[..., dict[str, Any]],
) -> None:  # fmt: skip
    exchange(app)
    receiver.down()

    response = signed_in.post("/accounts/logout/")

    assert response.status_code == HTTPStatus.FOUND
    assert signed_in.get("/accounts/").status_code == HTTPStatus.FOUND


def test_the_worker_forgets_what_is_long_done(
    signed_in: HttpClient, app: RegisteredClient, receiver: Receiver,
    exchange: Callable[..., dict[str, Any]],
) -> None:  # fmt: skip
    from accounts.models import SignInSession

    exchange(app)
    signed_in.post("/accounts/logout/")
    call_command("logoutworker", "--once")
    assert LogoutDelivery.objects.get().delivered_at is not None

    with time_machine.travel(datetime.now(UTC) + timedelta(days=29)):
        call_command("logoutworker", "--once")
    assert LogoutDelivery.objects.exists() and SignInSession.objects.exists()
    with time_machine.travel(datetime.now(UTC) + timedelta(days=31)):
        call_command("logoutworker", "--once")
    assert not LogoutDelivery.objects.exists() and not SignInSession.objects.exists()
