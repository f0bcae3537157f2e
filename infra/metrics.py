"""What the server counts for Prometheus (served at /metrics by authserver/metrics.py).

Counting touches only memory: with PROMETHEUS_MULTIPROC_DIR set (gunicorn.conf.py sets it),
prometheus_client keeps each worker's values in a memory-mapped file of that directory, and a
scrape sums them; without it (runserver, tests), in the process. No SQL, no Redis.

Labels are bounded sets: endpoints are URL route names, never raw paths; grant types, sign-in
methods, limits and providers are the server's own names.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import Counter, Histogram

requests_total = Counter(
    "authserver_http_requests",
    "Requests answered, by endpoint (URL route name) and status.",
    ["endpoint", "method", "status"],
)
request_duration = Histogram(
    "authserver_http_request_duration_seconds",
    "Time to answer a request, by endpoint (URL route name).",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
tokens_issued = Counter(
    "authserver_tokens_issued", "Token responses issued, by grant type.", ["grant_type"]
)
sign_ins = Counter(
    "authserver_sign_ins",
    "Sign-ins by method (password, google, naver, kakao) and outcome (success, failure).",
    ["method", "outcome"],
)
refresh_reuse = Counter(
    "authserver_refresh_token_reuse",
    "Used refresh tokens presented again: revoked (theft, the grant ended) or retry (within "
    "the grace, answered again).",
    ["outcome"],
)
rate_limited = Counter(
    "authserver_rate_limited", "Requests refused or held back by a rate limit.", ["limit"]
)
upstream_duration = Histogram(
    "authserver_upstream_request_duration_seconds",
    "Time of calls to other servers (upstream providers, JWKS), by target.",
    ["target"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
upstream_failures = Counter(
    "authserver_upstream_failures",
    "Calls to other servers that failed (no answer in time, a broken or oversized answer, a "
    "5xx status), by target.",
    ["target"],
)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetrics:
    """Counts and times each request under its route's name (`static` for the files whitenoise
    serves, `unmatched` for a 404 no route took); methods outside the usual few are `other`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        if match is not None:
            endpoint = match.view_name
        else:
            static = f"/{settings.STATIC_URL.lstrip('/')}"
            endpoint = "static" if request.path.startswith(static) else "unmatched"
        method = request.method if request.method in METHODS else "other"
        requests_total.labels(endpoint, method, str(response.status_code)).inc()
        request_duration.labels(endpoint).observe(time.perf_counter() - started)
        return response
