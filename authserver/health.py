"""Readiness: the database, the shared cache and a signing key for every algorithm in use, each
named in the answer when it fails (infra/health.py has the parts that know nothing of keys)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from infra.health import cache_problem, database_problem
from oauth.keys import signing_key_problem


@require_GET
@cache_control(no_store=True)
def ready(request: HttpRequest) -> HttpResponse:
    """200 {"status": "ok"}, or 503 with a member for each part that fails: "database",
    "cache", "signing_key" (the keys are looked at only when the database answers)."""
    problems: dict[str, str] = {}
    if database := database_problem():
        problems["database"] = database
    if cache := cache_problem():
        problems["cache"] = cache
    if not problems and (signing_key := signing_key_problem()):
        problems["signing_key"] = signing_key
    if problems:
        return JsonResponse({"status": "unavailable", **problems}, status=503)
    return JsonResponse({"status": "ok"})
