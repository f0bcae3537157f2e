"""Issue 17's "done when", over HTTP against the live server with the real SMTP server on
loopback: sign up, verify, sign in, reset the password, change the email, withdraw; afterwards
the app's refresh token fails and the address signs up again. Then an app signs the person out
through the end_session_endpoint and gets its `state` back, and prompt=none answers
login_required."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from authlib.integrations.requests_client import OAuth2Session

from tests.conftest import RegisteredClient
from tests.mailserver import Mailbox

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
PASSWORD = "a fresh and long passphrase"
BACK = "https://app.example.com/signed-out"


class Browser:
    """A person's browser over HTTP: it submits the forms the pages show, CSRF token and all."""

    def __init__(self, live: str) -> None:
        self.live = live
        self.session = requests.Session()

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        url = path if path.startswith("http") else self.live + path
        return self.session.get(url, timeout=15, **kwargs)

    def submit(self, path: str, data: dict[str, str], **kwargs: Any) -> requests.Response:
        """GET the page, then POST its form with `data`."""
        page = self.get(path)
        token = CSRF.search(page.text)
        assert token, page.text
        return self.session.post(
            page.url, data={"csrfmiddlewaretoken": token.group(1), **data},
            headers={"Referer": page.url}, timeout=15, **kwargs,
        )  # fmt: skip


def authorize(browser: Browser, client: RegisteredClient, **params: str) -> requests.Response:
    oauth = OAuth2Session(client.client_id, client.secret, scope="openid email",
                          redirect_uri=client.model.redirect_uris[0])  # fmt: skip
    url, _ = oauth.create_authorization_url(f"{browser.live}/oauth/authorize", **params)
    return browser.get(url, allow_redirects=False)


def app_tokens(browser: Browser, client: RegisteredClient) -> dict[str, Any]:
    """The app's whole front half, with the person already signed in: allow, exchange."""
    answer = consent = authorize(browser, client)
    if consent.status_code == 200:  # asked; else allowed before
        token = CSRF.search(consent.text)
        assert token, consent.text
        form = {"csrfmiddlewaretoken": token.group(1), "decision": "allow"}
        answer = browser.session.post(consent.url, data=form, headers={"Referer": consent.url},
                                      allow_redirects=False, timeout=15)  # fmt: skip
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    tokens = requests.post(
        f"{browser.live}/oauth/token",
        data={"grant_type": "authorization_code", "code": code,
              "redirect_uri": client.model.redirect_uris[0]},
        auth=(client.client_id, client.secret or ""), timeout=15,
    )  # fmt: skip
    assert tokens.status_code == 200, tokens.text
    return dict(tokens.json())


def sign_up_form(email: str) -> dict[str, str]:
    return {"email": email, "password1": PASSWORD, "password2": PASSWORD}


def refresh(live: str, client: RegisteredClient, refresh_token: str) -> requests.Response:
    return requests.post(
        f"{live}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(client.client_id, client.secret or ""), timeout=15,
    )  # fmt: skip


def test_a_person_owns_their_account_from_sign_up_to_withdrawal(
    live: str, mailbox: Mailbox, make_client: Callable[..., RegisteredClient]
) -> None:
    app = make_client(name="Photo printer")
    browser = Browser(live)

    sent = browser.submit("/accounts/signup/", sign_up_form("dana@example.com"))
    assert "Check your mail" in sent.text
    assert "Email address confirmed" in browser.get(mailbox.link("dana@example.com")).text

    signed_in = browser.submit("/accounts/login/", {"username": "dana@example.com",
                                                    "password": PASSWORD})  # fmt: skip
    assert "Your account" in signed_in.text
    tokens = app_tokens(browser, app)

    other = Browser(live)
    other.submit("/accounts/password/reset/", {"email": "dana@example.com"})
    choose = other.get(mailbox.link("dana@example.com"))
    done = other.submit(choose.url, {"new_password1": PASSWORD + "!",
                                     "new_password2": PASSWORD + "!"})  # fmt: skip
    assert "Password changed" in done.text
    assert "/accounts/login/" in browser.get("/accounts/").url  # the reset ended this session

    browser.submit("/accounts/login/", {"username": "dana@example.com", "password": PASSWORD + "!"})
    browser.submit("/accounts/email/", {"email": "dana@new.example", "password": PASSWORD + "!"})
    assert "Email address confirmed" in browser.get(mailbox.link("dana@new.example")).text
    assert "dana@new.example" in mailbox.last_to("dana@example.com").get_body().get_content()  # type: ignore[union-attr]

    tokens = app_tokens(browser, app)
    deleted = browser.submit("/accounts/delete/", {"confirm": "delete"})
    assert "Your account is deleted" in deleted.text

    refused = refresh(live, app, tokens["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    again = Browser(live).submit("/accounts/signup/", sign_up_form("dana@new.example"))
    assert "Check your mail" in again.text
    assert "/accounts/verify/" in mailbox.link("dana@new.example")


def test_an_app_signs_the_person_out_and_gets_its_state_back(
    live: str, mailbox: Mailbox, make_client: Callable[..., RegisteredClient], user: Any
) -> None:
    app = make_client(name="Photo printer", post_logout_redirect_uris=[BACK])
    browser = Browser(live)
    browser.submit(
        "/accounts/login/", {"username": "alice", "password": "correct horse battery staple"}
    )
    id_token = app_tokens(browser, app)["id_token"]
    metadata = requests.get(f"{live}/.well-known/openid-configuration", timeout=15).json()
    state = secrets.token_urlsafe(8)

    back = browser.get(metadata["end_session_endpoint"], allow_redirects=False, params={
        "id_token_hint": id_token, "post_logout_redirect_uri": BACK, "state": state})  # fmt: skip

    assert back.status_code == 302 and back.headers["Location"] == f"{BACK}?state={state}"
    silent = authorize(browser, app, prompt="none")
    assert parse_qs(urlsplit(silent.headers["Location"]).query)["error"] == ["login_required"]
