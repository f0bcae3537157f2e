"""The operators' review queue: approve an app (it goes live) or reject it with a reason."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from authserver.admin_base import NulRefused, operator

from .models import ReviewRequest
from .reviews import review_decide


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
