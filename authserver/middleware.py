"""Headers every response carries, and the answer when the shared cache is out."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger("authserver")

# No inline script anywhere, no framing (clickjacking), nothing loaded from elsewhere but images
# (a client's logo). No form-action: the consent form's answer is a redirect to the client,
# which browsers would hold to form-action too.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: https:",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


class ContentSecurityPolicy:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


class SharedCacheOutage:
    """Rate limits, sessions and the key and client stamps live in Redis: while it does not
    answer, requests that need it get a 503 that says so (the OAuth error
    `temporarily_unavailable` for the protocol endpoints and the API, a plain page for the
    pages people see), not a 500."""

    RETRY_AFTER = "30"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, RedisConnectionError | RedisTimeoutError):
            return None
        log.error("the shared cache does not answer: %s", exception)
        description = "The service is briefly unavailable; try again shortly."
        response: HttpResponse
        if request.path.startswith(("/oauth/", "/api/")) and request.path != "/oauth/authorize":
            response = JsonResponse(
                {"error": "temporarily_unavailable", "error_description": description},
                status=503,
            )
        else:
            # Drawn without the request: the session and context processors need the cache.
            response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = self.RETRY_AFTER
        response["Cache-Control"] = "no-store"
        return response
