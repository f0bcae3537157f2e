"""Races, on PostgreSQL with one connection per thread: a code or a refresh token presented twice
at the same moment is honoured exactly once (RFC 6749 §4.1.2, RFC 9700 §4.14.2)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import connection, transaction

from oauth.models import Grant, RefreshToken
from tests.conftest import HttpsClient, RegisteredClient, basic_auth

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL)"
    ),
    pytest.mark.django_db(transaction=True),
]


def wait_until_blocked(count: int) -> None:
    """Until `count` other connections wait on a row lock (PostgreSQL's pg_locks)."""
    deadline = time.monotonic() + 20
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0] >= count:
                return
            time.sleep(0.01)
    raise AssertionError("the racers never reached the lock")


class Racers:
    """Threads that POST the same token request at once, each on its own connection."""

    def __init__(self, client: RegisteredClient, data: dict[str, str], count: int = 2) -> None:
        self.statuses: list[int] = []
        self.bodies: list[dict[str, Any]] = []
        start = threading.Barrier(count)
        body = urlencode(data)
        auth = basic_auth(client.client_id, client.secret or "")

        def racer() -> None:
            try:
                http = HttpsClient()
                start.wait()
                response = http.post(
                    "/oauth/token",
                    body,
                    "application/x-www-form-urlencoded",
                    HTTP_AUTHORIZATION=auth,
                )
                self.statuses.append(response.status_code)
                self.bodies.append(response.json())
            finally:
                connection.close()

        self.threads = [threading.Thread(target=racer) for _ in range(count)]
        for thread in self.threads:
            thread.start()

    def finish(self) -> tuple[list[int], list[dict[str, Any]]]:
        for thread in self.threads:
            thread.join()
        return sorted(self.statuses), self.bodies


@pytest.fixture
def client_and_code(
    make_client: Callable[..., RegisteredClient], code_for: Callable[..., dict[str, str]]
) -> tuple[RegisteredClient, dict[str, str]]:
    client = make_client(first_party=True)
    return client, code_for(client)


def test_two_concurrent_exchanges_of_one_code_yield_exactly_one_success(
    client_and_code: tuple[RegisteredClient, dict[str, str]],
) -> None:
    client, data = client_and_code

    statuses, _ = Racers(client, data).finish()

    assert statuses == [HTTPStatus.OK, HTTPStatus.BAD_REQUEST]
    # The loser is a replay: the winner's grant is revoked too (RFC 6749 §4.1.2).
    assert Grant.objects.get().revoked_at is not None


def test_without_a_retry_grace_two_concurrent_refreshes_yield_exactly_one_success(
    client_and_code: tuple[RegisteredClient, dict[str, str]], settings: Any
) -> None:
    """With the grace, both get the same answer (test_refresh_retry.py)."""
    settings.REFRESH_RETRY_GRACE = 0
    client, data = client_and_code
    http = HttpsClient()
    tokens = http.post(
        "/oauth/token",
        urlencode(data),
        "application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic_auth(client.client_id, client.secret or ""),
    ).json()
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}

    # Hold the token's row so that both racers read it unused and then queue on the update:
    # the true race, every time, rather than whatever order the threads happen to run in.
    with transaction.atomic():
        RefreshToken.objects.select_for_update().get()
        racers = Racers(client, refresh)
        wait_until_blocked(2)
    statuses, bodies = racers.finish()

    assert statuses == [HTTPStatus.OK, HTTPStatus.BAD_REQUEST]
    # Losing a race is not theft: the winner's new refresh token keeps working.
    (winner,) = [body for body in bodies if "refresh_token" in body]
    again = http.post(
        "/oauth/token",
        urlencode({"grant_type": "refresh_token", "refresh_token": winner["refresh_token"]}),
        "application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic_auth(client.client_id, client.secret or ""),
    )
    assert again.status_code == HTTPStatus.OK
    assert Grant.objects.get().revoked_at is None


def test_secret_rotation_racing_token_requests_has_a_consistent_outcome(
    client_and_code: tuple[RegisteredClient, dict[str, str]],
) -> None:
    """Requests with the old secret while it is rotated are each either served (before) or
    refused as invalid_client (after); never an error, never a half-rotated client."""
    from oauth.clients import client_secret_rotate
    from oauth.hashing import secret_matches

    client, _ = client_and_code
    refresh = {"grant_type": "refresh_token", "refresh_token": "not-a-token"}
    racers = Racers(client, refresh, count=6)
    new_secret = client_secret_rotate(client.model)
    statuses, bodies = racers.finish()

    assert set(statuses) <= {HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED}
    assert {body["error"] for body in bodies} <= {"invalid_grant", "invalid_client"}
    client.model.refresh_from_db()
    assert secret_matches(new_secret, client.model.secret_hash)
    after, _ = Racers(client, refresh).finish()
    assert after == [HTTPStatus.UNAUTHORIZED, HTTPStatus.UNAUTHORIZED]


def test_two_concurrent_rotations_both_rotate(db: None) -> None:
    """An operator's double click on "Rotate": the second rotation waits for the first and then
    rotates again from what it left, rather than failing on the one-active-key constraint."""
    from oauth.keys import signing_key_activate_first, signing_key_rotate
    from oauth.models import SigningKey

    signing_key_activate_first(algorithm="RS256")
    first = SigningKey.objects.get(state=SigningKey.State.ACTIVE)
    # Hold the active key so that both rotations are waiting on it when it is let go.
    with transaction.atomic():
        SigningKey.objects.select_for_update().get(pk=first.pk)
        outcomes: list[Any] = []

        def rotate() -> None:
            try:
                outcomes.append(signing_key_rotate(algorithm="RS256"))
            except Exception as error:  # the failure this test is about
                outcomes.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=rotate) for _ in range(2)]
        for thread in threads:
            thread.start()
        wait_until_blocked(2)
    for thread in threads:
        thread.join()

    assert all(isinstance(outcome, tuple) for outcome in outcomes), outcomes
    assert SigningKey.objects.filter(state=SigningKey.State.ACTIVE).count() == 1
    assert SigningKey.objects.filter(state=SigningKey.State.RETIRED).count() == 2
    # Each rotation's times are from after its wait: no key activated before it was created,
    # nor retired early (its window counted from too soon).
    for key in SigningKey.objects.exclude(activated_at=None):
        assert key.activated_at >= key.created_at
