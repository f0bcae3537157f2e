"""What every admin page of ours shares."""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from infra.origin import Origin

M = TypeVar("M", bound=Model)


def operator(request: HttpRequest) -> dict[str, Any]:
    """Who acts in the admin and from where, as the services record it on security events."""
    return {"origin": Origin.of(request), "actor_id": request.user.pk}


class NulRefused(admin.ModelAdmin[M]):
    """PostgreSQL text cannot hold the NUL character, and a filter or search with one was a
    DataError (a 500). A list page whose query has one is refused as the admin refuses any bad
    lookup; the autocomplete's search for one finds nothing."""

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        if any("\x00" in name + "".join(values) for name, values in request.GET.lists()):
            raise IncorrectLookupParameters
        return super().get_changelist_instance(request)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[M], search_term: str
    ) -> tuple[QuerySet[M], bool]:
        if "\x00" in search_term:
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)


class ReadOnlyAdmin(NulRefused[M]):
    """Rows written by the flows: operators look, and act through actions only."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [field.name for field in self.model._meta.fields] + list(self.readonly_fields)
