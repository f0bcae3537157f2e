"""/metrics for Prometheus: the counts of every worker (infra/metrics.py), plus the age of the
signing keys, computed when scraped.

Off (404) unless METRICS_TOKEN or METRICS_ALLOWED_NETWORKS is set; then a scrape needs the
token as a bearer token, or must come from one of the networks. A refused scrape gets a bare
401 that says nothing of which was missing.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterator

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET
from prometheus_client import CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector

from infra.origin import Origin
from oauth.keys import signing_key_ages


class ThisProcess(Collector):
    """The counts of this process alone (no PROMETHEUS_MULTIPROC_DIR: runserver, tests)."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


class SigningKeyAge(Collector):
    """Seconds since each algorithm's active key became active (a rotation resets it)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "authserver_signing_key_age_seconds",
            "Seconds since the active signing key of each algorithm became active.",
            labels=["algorithm"],
        )
        for algorithm, age in sorted(signing_key_ages().items()):
            gauge.add_metric([algorithm], age)
        yield gauge


def allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer":
        if hmac.compare_digest(presented.strip().encode(), token.encode()):
            return True
    address = Origin.of(request).ip_address
    if address is None or not settings.METRICS_ALLOWED_NETWORKS:
        return False
    ip = ipaddress.ip_address(address)
    return any(ip in network for network in settings.METRICS_ALLOWED_NETWORKS)


@require_GET
@cache_control(no_store=True)
def metrics(request: HttpRequest) -> HttpResponse:
    if not (settings.METRICS_TOKEN or settings.METRICS_ALLOWED_NETWORKS):
        raise Http404
    if not allowed(request):
        response = HttpResponse(status=401)
        response["WWW-Authenticate"] = "Bearer"
        return response
    registry = CollectorRegistry()
    if settings.PROMETHEUS_MULTIPROC_DIR:
        # Every worker's files summed, in a registry made for this scrape (the library's way).
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(ThisProcess())
    registry.register(SigningKeyAge())
    return HttpResponse(
        generate_latest(registry), content_type="text/plain; version=0.0.4; charset=utf-8"
    )
