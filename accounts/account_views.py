"""The account page's steps: the password (changed, or set on an account a provider made), the
email address, and the sessions the person is signed in to."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from events.recording import Kind, event_record
from infra.origin import Origin
from oauth.sign_in import session_sid

from .forms import EmailChangeForm
from .freshness import fresh_sign_in_demand, signed_in_freshly
from .mail import MailNotSent
from .sessions import session_key_changed, sessions_end
from .signup import verification_send
from .signup_views import mail_failed
from .unlinking import unlink_notice_dismiss
from .views import SignedInRequest


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def password_change(request: SignedInRequest) -> HttpResponse:
    """With the current password (Django's form); an account without one sets its first
    password here after a fresh sign-in. Either way every other session ends."""
    user = request.user
    first = not user.has_usable_password()
    if first and not signed_in_freshly(request, user):
        return fresh_sign_in_demand(request)
    data = request.POST if request.method == "POST" else None
    form: Any = SetPasswordForm(user, data) if first else PasswordChangeForm(user, data)
    if data is not None and form.is_valid():
        form.save()
        update_session_auth_hash(request, user)  # this session stays, under a new key
        session_key_changed(request)
        origin = Origin.of(request)
        sessions_end(user=user, keep=session_sid(request), origin=origin, reason="password")
        event_record(Kind.PASSWORD_CHANGED, origin=origin, user_id=user.pk, first=first)
        messages.success(request, _("Your password is changed. Every other session has ended."))
        return redirect("accounts:home")
    return render(request, "accounts/password_change.html", {"form": form, "first": first})


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def email_change(request: SignedInRequest) -> HttpResponse:
    """A link to the new address proves it; only then does it replace the old one, which is
    told (signup_views.verify). The password, when the account has one, is asked first."""
    user = request.user
    form = EmailChangeForm(user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        address = form.cleaned_data["email"]
        try:
            verification_send(request=request, user=user, address=address)
        except MailNotSent:
            return mail_failed(request)
        messages.success(
            request,
            _("We sent a link to %(email)s. Open it to make the change.") % {"email": address},
        )
        return redirect("accounts:home")
    return render(request, "accounts/email_change.html", {"form": form})


@require_POST
@login_required
def session_end(request: SignedInRequest, sid: str) -> HttpResponse:
    if len(sid) > 64 or not sid.isprintable():
        raise Http404
    ended = sessions_end(user=request.user, sids=[sid], keep=session_sid(request),
                         origin=Origin.of(request), reason="person")  # fmt: skip
    if not ended:
        raise Http404
    messages.success(request, _("That session has ended."))
    return redirect("accounts:home")


@require_POST
@login_required
def unlink_notice_read(request: SignedInRequest, notice_id: int) -> HttpResponse:
    """The person has read what a provider's unlink did: the page stops telling them."""
    unlink_notice_dismiss(user=request.user, notice_id=notice_id)
    return redirect("accounts:home")


@require_POST
@login_required
def sessions_end_others(request: SignedInRequest) -> HttpResponse:
    sessions_end(user=request.user, keep=session_sid(request), origin=Origin.of(request),
                 reason="person")  # fmt: skip
    messages.success(request, _("You are signed out everywhere else."))
    return redirect("accounts:home")
