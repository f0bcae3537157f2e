"""Health checks for load balancers and the benchmark's floor.

Liveness says the process answers (restart it if not); readiness says it can serve (send it
traffic): its database and its shared cache answer. The project's readiness view adds the
signing keys (authserver/health.py), which infra does not know of.
"""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from .cache import shared_redis


@require_GET
def ping(request: HttpRequest) -> HttpResponse:
    """Liveness without touching the database; also the floor that `make bench` measures."""
    return JsonResponse({"status": "ok"})


@require_GET
@cache_control(no_store=True)
def live(request: HttpRequest) -> HttpResponse:
    """The process answers: nothing else is asked, so an outage of PostgreSQL or Redis never
    makes an orchestrator restart every instance at once."""
    return JsonResponse({"status": "ok"})


def database_problem() -> str | None:
    """Why the database does not answer (the exception's name), or None when it does."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # any database failure means: take me out of rotation
        return type(error).__name__
    return None


def cache_problem() -> str | None:
    """Why the shared cache (rate limits, sessions, key rotation) does not answer, or None."""
    redis = shared_redis()
    if redis is None:
        return None
    try:
        redis.ping()
    except Exception as error:  # likewise
        return type(error).__name__
    return None
