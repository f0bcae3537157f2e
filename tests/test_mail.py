"""Mail through Django's mail framework to a real SMTP server on loopback: in the person's
language, plain text and HTML, one-line subjects, and a clear failure when the server is down
or silent."""

from __future__ import annotations

import pytest
from django.utils import translation

from accounts.mail import MailNotSent, mail_send
from tests.mailserver import Mailbox, html_of, text_of

CONTEXT = {"email": "alice@example.com", "url": "https://auth.example.com/accounts/verify/x/"}


def test_mail_goes_through_smtp_as_plain_text_and_html(mailbox: Mailbox, settings: object) -> None:
    mail_send(to="alice@example.com", kind="verify", context=CONTEXT)

    message = mailbox.last_to("alice@example.com")
    assert message["Subject"] == "Confirm your email address"
    assert message["From"] == settings.DEFAULT_FROM_EMAIL  # type: ignore[attr-defined]
    assert CONTEXT["url"] in text_of(message)
    assert f'href="{CONTEXT["url"]}"' in html_of(message)


def test_mail_is_in_the_language_asked_for(mailbox: Mailbox) -> None:
    mail_send(to="alice@example.com", kind="verify", context=CONTEXT, language="ko")
    with translation.override("ko"):
        mail_send(to="bob@example.com", kind="verify", context=CONTEXT)

    for address in ("alice@example.com", "bob@example.com"):
        message = mailbox.last_to(address)
        assert message["Subject"] == "이메일 주소를 확인해 주세요"
        assert "24시간" in text_of(message)
        assert 'lang="ko"' in html_of(message)


def test_text_mail_is_not_html_escaped_and_html_mail_is(mailbox: Mailbox) -> None:
    context = {**CONTEXT, "email": "o'brien&co@example.com"}
    mail_send(to="alice@example.com", kind="verify", context=context)

    message = mailbox.last_to("alice@example.com")
    assert "o'brien&co@example.com" in text_of(message)
    assert "o&#x27;brien&amp;co@example.com" in html_of(message)


@pytest.mark.parametrize(
    "address", ["alice@example.com\r\nBcc: mallory@example.com", "alice@example.com\nX: y"]
)
def test_header_injection_in_an_address_sends_nothing(mailbox: Mailbox, address: str) -> None:
    with pytest.raises(MailNotSent):
        mail_send(to=address, kind="verify", context=CONTEXT)

    assert mailbox.messages == []


@pytest.mark.usefixtures("smtp_down")
def test_a_mail_server_that_is_down_is_reported() -> None:
    with pytest.raises(MailNotSent):
        mail_send(to="alice@example.com", kind="verify", context=CONTEXT)


@pytest.mark.usefixtures("smtp_silent")
def test_a_mail_server_that_never_answers_is_given_up_on() -> None:
    with pytest.raises(MailNotSent):
        mail_send(to="alice@example.com", kind="verify", context=CONTEXT)
