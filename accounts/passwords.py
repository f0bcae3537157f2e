"""Password reset by mail: Django's views and token generator, with our templates, our mail,
rate limits, and what a reset must end (the person's other sessions, their apps' refresh-token
families)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.urls import reverse_lazy

from events.recording import Kind, event_record
from infra.origin import Origin
from infra.ratelimit import address_subject, rate_hit
from oauth.connected_apps import connected_apps_end_all

from .emails import email_canonical
from .mail import MailNotSent, mail_send
from .models import User, users_with_email
from .sessions import sessions_end
from .signup_views import mail_failed, too_many


class PasswordResetForm(auth_forms.PasswordResetForm):
    def get_users(self, email: str) -> Iterator[User]:
        """The account holding the address, compared as accounts are (emails.py). One without a
        password is mailed only when it has no other way in (a provider unlinked it) and the
        address is proven: then a reset is how its owner gets back in."""
        for user in users_with_email(email).filter(is_active=True):
            if user.has_usable_password() or (user.email_verified and not user.identities.exists()):
                yield user

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        mail_send(to=to_email, kind="password_reset", context=context)


class PasswordResetView(auth_views.PasswordResetView):
    """The same answer whether or not the address has an account; limited per address and
    per email (a flood of mail to one person is harassment, whoever sends it)."""

    form_class = PasswordResetForm
    template_name = "accounts/password_reset_form.html"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form: Any) -> HttpResponse:
        origin = Origin.of(self.request)
        email = form.cleaned_data["email"]
        for limit, subject in (
            ("password_reset_address", address_subject(origin.ip_address)),
            ("password_reset_email", email_canonical(email) or email.lower()),
        ):
            verdict = rate_hit(limit, subject, origin=origin)
            if not verdict.allowed:
                return too_many(self.request, verdict.retry_after)
        try:
            return super().form_valid(form)
        except MailNotSent:
            return mail_failed(self.request)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form: Any) -> HttpResponse:
        """The new password replaces the old one, which ends every session signed in with it
        (Django checks a hash of the password on each request); the link proved the address;
        and every app's refresh tokens stop working, since whoever knew the old password may
        have had them issued."""
        response = super().form_valid(form)
        password_reset_complete(request=self.request, user=form.user)
        return response


def password_reset_complete(*, request: HttpRequest, user: User) -> None:
    if not user.email_verified:
        user.email_verified = True
        user.save(update_fields=["email_verified", "updated_at"])
    origin = Origin.of(request)
    sessions_end(user=user, origin=origin, reason="password_reset")
    connected_apps_end_all(user=user, origin=origin)
    event_record(Kind.PASSWORD_RESET, origin=origin, user_id=user.pk)


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
