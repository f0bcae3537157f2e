"""/metrics for Prometheus: off unless configured, closed to strangers without a word, and,
under gunicorn with two workers, the counts of both summed: requests by route and status,
tokens by grant type, sign-ins by method and outcome, refresh token reuse, rate-limit
refusals, calls to the providers and their failures, and the signing key's age."""

from __future__ import annotations

import ipaddress
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from accounts.models import User
from tests.conftest import RegisteredClient, query
from tests.test_instances import (
    ROOT,
    free_port,
    post,
    production_env,
    signed_in_session,
    wait_until_up,
)
from tests.test_upstream_end_to_end import app_signs_in

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "scrape-token-for-the-tests-0123456789"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scraped: dict[Any, float], name: str, **labels: str) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_are_off_when_neither_a_token_nor_networks_are_set(live: str) -> None:
    assert requests.get(f"{live}/metrics", timeout=10).status_code == 404


def test_a_scrape_without_the_token_gets_a_bare_401(live: str, settings: Any) -> None:
    settings.METRICS_TOKEN = TOKEN
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        response = requests.get(f"{live}/metrics", headers=headers, timeout=10)

        assert response.status_code == 401
        assert response.content == b""
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_scrape_with_the_token_gets_the_counts(live: str, settings: Any) -> None:
    settings.METRICS_TOKEN = TOKEN
    requests.get(f"{live}/healthz/live", timeout=10)

    response = requests.get(
        f"{live}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    scraped = samples(response.text)
    assert value(scraped, "authserver_http_requests_total",
                 endpoint="healthz-live", method="GET", status="200") >= 1  # fmt: skip


def test_a_scrape_from_an_allowed_network_needs_no_token(live: str, settings: Any) -> None:
    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("127.0.0.0/8")]
    assert requests.get(f"{live}/metrics", timeout=10).status_code == 200

    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.0.0.0/8")]
    assert requests.get(f"{live}/metrics", timeout=10).status_code == 401


class Server:
    def __init__(self, url: str, directory: Path) -> None:
        self.url, self.directory = url, directory

    def scrape(self) -> dict[Any, float]:
        response = requests.get(
            f"{self.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        )
        assert response.status_code == 200
        return samples(response.text)

    def workers_counting(self) -> set[str]:
        return {
            match.group(1)
            for path in self.directory.iterdir()
            if (match := re.fullmatch(r"counter_(\d+)\.db", path.name))
        }


@pytest.fixture
def server(db: None, fake_providers: Any, tmp_path: Path) -> Iterator[Server]:
    """gunicorn with two single-threaded workers and the project's gunicorn.conf.py."""
    fake_providers.reset()
    for fake in fake_providers.providers:
        fake.auto_approve = True
    port = free_port()
    directory = tmp_path / "metrics"
    env = production_env(
        f"http://127.0.0.1:{port}",
        **fake_providers.settings(),
        METRICS_TOKEN=TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(directory),
        REFRESH_RETRY_GRACE="0",
        RATE_LIMIT_REVOCATION_ADDRESS="2/600",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "authserver.wsgi", "--config", "gunicorn.conf.py",
         "--workers", "2", "--threads", "1", "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "--no-control-socket"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url)
        yield Server(url, directory)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_scrape_sums_the_counts_of_both_workers(
    server: Server,
    fake_providers: Any,
    make_client: Callable[..., RegisteredClient],
    make_user: Callable[..., User],
) -> None:
    url = server.url
    person = make_user("bora")
    app = make_client(first_party=True)

    # Enough requests at once that both workers serve some.
    def live(_: int) -> int:
        return requests.get(f"{url}/healthz/live", timeout=10).status_code

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(live, range(200)))
    assert answers == [200] * 200
    assert len(server.workers_counting()) == 2

    # A failed and a good password sign-in, a code exchange, a refresh, then that refresh
    # token again (theft: the grant ends), three revocations against a limit of two.
    failed = requests.Session()
    page = failed.get(f"{url}/accounts/login/", timeout=10).text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    failed.post(f"{url}/accounts/login/", timeout=10,
                data={"csrfmiddlewaretoken": csrf, "username": "bora",
                      "password": "wrong"})  # fmt: skip
    browser = signed_in_session(url, person)
    params = {"response_type": "code", "client_id": app.client_id,
              "redirect_uri": app.model.redirect_uris[0], "scope": "openid profile"}  # fmt: skip
    answer = browser.get(f"{url}/oauth/authorize", params=params, allow_redirects=False)
    code = query(answer.headers["Location"])["code"]
    first = post(url, "/oauth/token", app, grant_type="authorization_code", code=code,
                 redirect_uri=params["redirect_uri"]).json()  # fmt: skip
    refreshed = post(url, "/oauth/token", app, grant_type="refresh_token",
                     refresh_token=first["refresh_token"])  # fmt: skip
    again = post(url, "/oauth/token", app, grant_type="refresh_token",
                 refresh_token=first["refresh_token"])  # fmt: skip
    assert (refreshed.status_code, again.status_code) == (200, 400)
    revocations = [post(url, "/oauth/revoke", app, token="x").status_code for _ in range(3)]
    assert revocations == [200, 200, 429]

    # Google answers; Kakao's profile endpoint is down.
    app_signs_in(url, make_client(name="Google app"), "google")
    fake_providers.kakao.profile_error = (503, b"down")
    with pytest.raises(KeyError):  # the sign-in ends on an error page, not back at the app
        app_signs_in(url, make_client(name="Kakao app"), "kakao")

    scraped = server.scrape()

    assert value(scraped, "authserver_http_requests_total",
                 endpoint="healthz-live", method="GET", status="200") == 200  # fmt: skip
    assert value(scraped, "authserver_http_request_duration_seconds_count",
                 endpoint="healthz-live") == 200  # fmt: skip
    assert value(scraped, "authserver_http_requests_total",
                 endpoint="oauth:token", method="POST", status="400") == 1  # fmt: skip
    assert value(scraped, "authserver_tokens_issued_total", grant_type="authorization_code") == 2
    assert value(scraped, "authserver_tokens_issued_total", grant_type="refresh_token") == 1
    assert value(scraped, "authserver_sign_ins_total", method="password", outcome="success") == 1
    assert value(scraped, "authserver_sign_ins_total", method="password", outcome="failure") == 1
    assert value(scraped, "authserver_sign_ins_total", method="google", outcome="success") == 1
    assert value(scraped, "authserver_sign_ins_total", method="kakao", outcome="failure") == 1
    assert value(scraped, "authserver_refresh_token_reuse_total", outcome="revoked") == 1
    assert value(scraped, "authserver_rate_limited_total", limit="revocation_address") == 1
    # Google's token, keys and profile endpoints.
    assert value(scraped, "authserver_upstream_request_duration_seconds_count",
                 target="google") == 3  # fmt: skip
    assert value(scraped, "authserver_upstream_failures_total", target="google") == 0
    assert value(scraped, "authserver_upstream_failures_total", target="kakao") == 1
    assert 0 <= value(scraped, "authserver_signing_key_age_seconds", algorithm="RS256") < 600


def test_requests_no_route_took_are_counted_apart_from_static_files(
    live: str, settings: Any
) -> None:
    settings.METRICS_TOKEN = TOKEN
    requests.get(f"{live}/no/such/page", timeout=10)
    requests.get(f"{live}/static/css/overview.css", timeout=10)

    response = requests.get(
        f"{live}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )

    scraped = samples(response.text)
    assert value(scraped, "authserver_http_requests_total",
                 endpoint="unmatched", method="GET", status="404") >= 1  # fmt: skip
    assert not any("/no/such/page" in str(key) for key in scraped)
