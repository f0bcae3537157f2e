"""Mail to people: rendered in their language from a template of each kind (subject, plain
text, HTML), sent through Django's mail framework (the SMTP server of EMAIL_HOST)."""

from __future__ import annotations

import logging
import smtplib
from typing import Any

from django.core.mail import BadHeaderError, EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

log = logging.getLogger("accounts.mail")


class MailNotSent(Exception):
    """The mail server refused the message, did not answer in EMAIL_TIMEOUT, or was not there:
    the flow that sends it undoes what it did and tells the person to try again."""


def mail_send(*, to: str, kind: str, context: dict[str, Any], language: str | None = None) -> None:
    """Send mail of `kind` (templates accounts/mail/<kind>_subject.txt, .txt, .html) to one
    address. The subject is made one line whatever the template holds: a line break there would
    be a header of its own."""
    with translation.override(language or translation.get_language()):
        subject = render_to_string(f"accounts/mail/{kind}_subject.txt", context)
        text = render_to_string(f"accounts/mail/{kind}.txt", context)
        html = render_to_string(f"accounts/mail/{kind}.html", context)
    message = EmailMultiAlternatives(" ".join(subject.split()), text, to=[to])
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except (smtplib.SMTPException, OSError, BadHeaderError, ValueError) as error:
        # OSError: refused, unreachable or timed out; ValueError: an address Django will not
        # put in a header. Logged without the address: it is personal data.
        log.warning("mail of kind %s not sent: %s", kind, type(error).__name__)
        raise MailNotSent(kind) from error
