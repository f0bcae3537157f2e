"""The sign-up page, the verification link's page, and sending the link again."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from infra.origin import Origin
from infra.ratelimit import address_subject, rate_hit

from .forms import SignupForm
from .mail import MailNotSent, mail_send
from .signup import AddressTaken, email_confirm, signup_start, verification_send
from .verification import LinkRefused, verification_check
from .views import SignedInRequest


@require_http_methods(["GET", "HEAD", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if not settings.SIGNUP_ENABLED:
        raise Http404
    form = SignupForm(request.POST if request.method == "POST" else None)
    if request.method != "POST" or not form.is_valid():
        return render(request, "accounts/signup.html", {"form": form})
    origin = Origin.of(request)
    verdict = rate_hit("signup_address", address_subject(origin.ip_address), origin=origin)
    if not verdict.allowed:
        return too_many(request, verdict.retry_after)
    email = form.cleaned_data["email"]
    try:
        signup_start(request=request, email=email, password=form.cleaned_data["password1"])
    except MailNotSent:
        return mail_failed(request)
    return render(request, "accounts/signup_sent.html", {"email": email})


@require_http_methods(["GET", "HEAD"])
def verify(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the mail: the address is proven (a new one replaces the old, which is
    told). A forged, used or expired link gets a page that says so."""
    try:
        user, address = verification_check(token)
    except LinkRefused as refused:
        return render(
            request, "accounts/verify_failed.html", {"reason": refused.reason}, status=400
        )
    try:
        previous = email_confirm(user=user, address=address, origin=Origin.of(request))
    except AddressTaken:
        return render(request, "accounts/verify_failed.html", {"reason": "taken"}, status=409)
    if previous:
        try:
            mail_send(to=previous, kind="address_changed", context={"email": address})
        except MailNotSent:
            pass  # the change is made and proven; the old address not hearing of it is logged
    return render(request, "accounts/verified.html", {"email": address})


@require_POST
@login_required
def verification_resend(request: SignedInRequest) -> HttpResponse:
    """From the account page, for an address not proven yet (limited per account)."""
    user = request.user
    if not user.email or user.email_verified:
        return redirect("accounts:home")
    verdict = rate_hit("verification_resend", f"user:{user.pk}", origin=Origin.of(request),
                       user_id=str(user.pk))  # fmt: skip
    if not verdict.allowed:
        return too_many(request, verdict.retry_after)
    try:
        verification_send(request=request, user=user, address=user.email)
    except MailNotSent:
        return mail_failed(request)
    messages.success(request, _("We sent the link again to %(email)s.") % {"email": user.email})
    return redirect("accounts:home")


def mail_failed(request: HttpRequest) -> HttpResponse:
    """The mail server failed: nothing was done, and the person can simply try again."""
    response = render(request, "accounts/mail_failed.html", status=503)
    response["Retry-After"] = "60"
    return response


def too_many(request: HttpRequest, retry_after: int) -> HttpResponse:
    response = render(request, "accounts/too_many.html", status=429)
    response["Retry-After"] = str(retry_after)
    return response
