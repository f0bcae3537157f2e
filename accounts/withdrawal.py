"""Withdrawal (회원탈퇴): the account and everything that names the person goes. Every grant, code,
consent and session ends (apps signed in through a session are told, back-channel logout), the
provider identities go (Kakao is told through its unlink API: unlinks.py), security events keep
a pseudonym in the person's place, and the username and email are free again."""

from __future__ import annotations

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.crypto import salted_hmac
from django.views.decorators.http import require_http_methods

from events.recording import Kind, event_record, events_pseudonymise
from infra.origin import Origin

from .freshness import fresh_sign_in_demand, signed_in_freshly
from .models import User
from .sessions import sessions_end
from .unlinks import provider_unlinks_queue
from .views import SignedInRequest


def pseudonym_of(user: User) -> str:
    """A stand-in for the person in what is kept: keyed by SECRET_KEY, so it cannot be worked
    back from the account id without it."""
    return salted_hmac("accounts.withdrawal", str(user.pk)).hexdigest()[:32]


def account_delete(*, request: HttpRequest, user: User) -> str:
    """All or nothing; what must reach others (apps, Kakao) is queued in the same transaction
    and sent by the worker, so that no one waits for them. Returns the pseudonym."""
    origin = Origin.of(request)
    pseudonym = pseudonym_of(user)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        sessions_end(user=user, origin=origin, reason="withdrawal")
        provider_unlinks_queue(user=user)
        events_pseudonymise(user_id=user.pk, pseudonym=pseudonym)
        user.delete()  # grants, codes, consents, identities and sessions go with it
        event_record(Kind.ACCOUNT_DELETED, origin=origin, pseudonym=pseudonym)
    return pseudonym


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def delete_page(request: SignedInRequest) -> HttpResponse:
    user = request.user
    if not signed_in_freshly(request, user):
        return fresh_sign_in_demand(request)
    if request.method == "POST" and request.POST.get("confirm") == "delete":
        account_delete(request=request, user=user)
        logout(request)
        return render(request, "accounts/deleted.html")
    context = {"asked": request.method == "POST", "identities": list(user.identities.all())}
    return render(request, "accounts/delete.html", context)
