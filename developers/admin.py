"""The operators' review queue: approve an app (it goes live) or reject it with a reason."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from authserver.admin_base import NulRefused, operator

from .models import InitialAccessToken, ReviewRequest
from .reviews import review_decide
from .tokens import initial_token_create

NEW_TOKEN = "_new_initial_token"


class DecisionForm(forms.ModelForm[ReviewRequest]):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("", "—"), ("approve", _("Approve: the app goes live")), ("reject", _("Reject"))],
        required=False,
    )

    class Meta:
        model = ReviewRequest
        fields = ["reason"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("decision") == "reject" and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("Tell the team why: they see the reason."))
        if "\x00" in (cleaned.get("reason") or ""):
            self.add_error("reason", _("Null characters are not allowed."))
        return cleaned


@admin.register(ReviewRequest)
class ReviewRequestAdmin(NulRefused[ReviewRequest]):
    form = DecisionForm
    list_display = ["client", "state", "requested_by", "requested_at", "decided_at"]
    list_filter = ["state"]
    search_fields = ["client__name", "client__client_id"]
    fields = [
        "client", "client_links", "requested_by", "requested_at", "note", "state", "decision",
        "reason", "decided_by", "decided_at",
    ]  # fmt: skip
    readonly_fields = [
        "client", "client_links", "requested_by", "requested_at", "note", "state", "decided_by",
        "decided_at",
    ]  # fmt: skip

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReviewRequest]:
        return super().get_queryset(request).select_related("client", "requested_by")

    @admin.display(description=_("what people will see"))
    def client_links(self, review: ReviewRequest) -> str:
        client = review.client
        return " · ".join(
            uri for uri in (client.homepage_uri, client.privacy_policy_uri, client.terms_uri) if uri
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and obj.state != ReviewRequest.State.PENDING:
            return [*self.readonly_fields, "reason"]
        return self.readonly_fields

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and obj.state != ReviewRequest.State.PENDING:
            return [name for name in self.fields if name != "decision"]
        return self.fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # teams ask from the console

    def save_model(
        self, request: HttpRequest, review: ReviewRequest, form: Any, change: bool
    ) -> None:
        decision = form.cleaned_data.get("decision")
        if decision in {"approve", "reject"}:
            review_decide(
                review,
                approve=decision == "approve",
                reason=form.cleaned_data.get("reason") or "",
                **operator(request),
            )


class InitialTokenForm(forms.ModelForm[InitialAccessToken]):
    expires_in = forms.IntegerField(
        label=_("Expires in (seconds)"), min_value=60, max_value=365 * 86400, initial=86400
    )

    class Meta:
        model = InitialAccessToken
        fields = ["owner", "max_clients", "live"]


@admin.register(InitialAccessToken)
class InitialAccessTokenAdmin(NulRefused[InitialAccessToken]):
    """Operators make tokens here (or with `manage.py registrationtoken`); the token is shown
    once, on the page that follows."""

    form = InitialTokenForm
    list_display = ["__str__", "owner", "registered", "max_clients", "expires_at", "live",
                    "from_console"]  # fmt: skip
    list_filter = ["live", "from_console"]
    raw_id_fields = ["owner"]
    readonly_fields = ["registered", "created_at", "from_console"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["owner", "max_clients", "expires_in", "live"]
        return ["owner", "max_clients", "registered", "expires_at", "live", "created_at",
                "from_console"]  # fmt: skip

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(
        self, request: HttpRequest, row: InitialAccessToken, form: Any, change: bool
    ) -> None:
        created, token = initial_token_create(
            owner_id=form.cleaned_data["owner"].pk,
            max_clients=form.cleaned_data["max_clients"],
            expires_in=timedelta(seconds=form.cleaned_data["expires_in"]),
            live=form.cleaned_data["live"],
        )
        row.pk = created.pk
        setattr(request, NEW_TOKEN, (created, token))

    def response_add(self, request: HttpRequest, obj: Any, *args: Any) -> HttpResponse:
        created, token = getattr(request, NEW_TOKEN)
        context = {
            **self.admin_site.each_context(request),
            "token": token,
            "row": created,
            "opts": self.model._meta,
            "back": reverse("admin:developers_initialaccesstoken_changelist"),
        }
        response = TemplateResponse(request, "admin/developers/initial_token.html", context)
        response["Cache-Control"] = "no-store"
        return response
