"""Liveness and readiness, as a load balancer or an orchestrator asks: `/healthz/live` only says
the process answers; `/healthz/ready` (and `/healthz`, its first name) says whether the database,
the shared cache and the signing keys are there, and names the part that is not."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.db import connection

from oauth import keys
from tests.test_instances import ROOT, free_port, production_env, wait_until_up

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_ready_server_says_ok_on_every_name(live: str) -> None:
    for path in ("/healthz/ready", "/healthz", "/healthz/live"):
        response = requests.get(f"{live}{path}", timeout=10)

        assert response.status_code == 200, path
        assert response.json() == {"status": "ok"}
        assert "no-store" in response.headers["Cache-Control"]


def test_liveness_asks_neither_the_database_nor_the_cache(
    live: str, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        assert requests.get(f"{live}/healthz/live", timeout=10).status_code == 200


@pytest.fixture
def redis_out(settings: Any) -> None:
    """A shared cache where nothing listens."""
    settings.REDIS_URL = "redis://127.0.0.1:9/0"
    settings.CACHES = {
        "default": {"BACKEND": "infra.cache.RedisCache", "LOCATION": settings.REDIS_URL}
    }


def test_a_cache_outage_makes_readiness_name_the_cache_while_liveness_stays_ok(
    live: str, redis_out: None
) -> None:
    ready = requests.get(f"{live}/healthz/ready", timeout=10)
    alive = requests.get(f"{live}/healthz/live", timeout=10)

    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "cache": "ConnectionError"}
    assert alive.status_code == 200


def test_a_signing_key_that_does_not_decrypt_makes_the_server_unready(
    live: str, settings: Any
) -> None:
    settings.SIGNING_KEY_ENCRYPTION_KEY = "the key the keys were stored with"
    assert requests.get(f"{live}/healthz/ready", timeout=10).status_code == 200
    settings.SIGNING_KEY_ENCRYPTION_KEY = "a different key"
    keys.key_ring_forget()

    ready = requests.get(f"{live}/healthz/ready", timeout=10)

    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "signing_key": "unreadable"}


def test_a_fresh_database_gets_its_first_keys_and_is_ready(live: str) -> None:
    assert requests.get(f"{live}/healthz/ready", timeout=10).json() == {"status": "ok"}
    assert keys.key_ring().signing.keys() == keys.algorithms_in_use()


@pytest.fixture
def server_without_its_database() -> Iterator[str]:
    """A production-configured gunicorn whose PostgreSQL and Redis are ports where nothing
    listens: as a server whose database machine went away."""
    port = free_port()
    env = production_env(
        f"http://127.0.0.1:{port}",
        DATABASE_URL="postgres://postgres@127.0.0.1:9/nowhere",
        REDIS_URL="redis://127.0.0.1:9/0",
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "authserver.wsgi", "--workers", "1",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--no-control-socket"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL outage")
def test_a_database_outage_makes_readiness_name_it_while_liveness_stays_ok(
    server_without_its_database: str,
) -> None:
    ready = requests.get(f"{server_without_its_database}/healthz/ready", timeout=10)
    alias = requests.get(f"{server_without_its_database}/healthz", timeout=10)
    alive = requests.get(f"{server_without_its_database}/healthz/live", timeout=10)

    assert ready.status_code == alias.status_code == 503
    assert ready.json() == {
        "status": "unavailable",
        "database": "OperationalError",
        "cache": "ConnectionError",
    }
    assert alive.status_code == 200
    assert alive.json() == {"status": "ok"}
