"""Health checks for load balancers and the benchmark's floor."""

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
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers: the process answers, and so do its database and its shared cache
    (rate limits, sessions and key rotation all go through Redis)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # any database failure means: take me out of rotation
        return JsonResponse({"status": "unavailable", "database": type(error).__name__}, status=503)
    redis = shared_redis()
    if redis is not None:
        try:
            redis.ping()
        except Exception as error:  # likewise
            return JsonResponse(
                {"status": "unavailable", "cache": type(error).__name__}, status=503
            )
    return JsonResponse({"status": "ok"})
