"""A retried refresh (RFC 6749 §6, rotation per RFC 9700 §4.14.2): a client whose answer was lost
and which sends the same refresh token again within REFRESH_RETRY_GRACE gets the first answer
again, byte for byte, and keeps its grant; after the grace, it is reuse and revokes the grant.
The kept answer is sealed with a key only the refresh token yields (oauth/retries.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from http import HTTPStatus
from io import StringIO
from typing import Any
from urllib.parse import urlencode

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.models import SecurityEvent
from oauth import retries, rows, services
from oauth.hashing import secret_hash
from oauth.models import Grant, RefreshToken
from tests.conftest import HttpsClient, RegisteredClient, basic_auth
from tests.test_concurrency import Racers, wait_until_blocked
from tests.test_settings import manage

Kind = SecurityEvent.Kind
HEADERS = ["Content-Type", "Cache-Control", "Pragma"]


@pytest.fixture
def refresh(token_request: Callable[..., Any]) -> Callable[..., Any]:
    """A refresh request as `client` sends it: Basic credentials, or its client_id if public."""

    def post(client: RegisteredClient, refresh_token: str, **extra: str) -> Any:
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
        if client.secret is None:
            return token_request({**data, "client_id": client.client_id})
        return token_request(data, auth=(client.client_id, client.secret))

    return post


@pytest.fixture
def frozen() -> Iterator[Any]:
    """A clock that moves only when told to, from now."""
    with time_machine.travel(timezone.now(), tick=False) as clock:
        yield clock


def grant_is_live() -> bool:
    return Grant.objects.get().revoked_at is None


def events(kind: str, **detail: Any) -> int:
    lookups = {f"detail__{name}": value for name, value in detail.items()}
    return SecurityEvent.objects.filter(kind=kind, **lookups).count()


@pytest.mark.parametrize("kind", ["confidential", "public"])
def test_a_retry_within_the_grace_gets_the_first_answer_byte_for_byte(
    exchange: Callable[..., dict[str, Any]],
    refresh: Callable[..., Any],
    make_client: Callable[..., RegisteredClient],
    pkce: Any,
    kind: str,
) -> None:
    client = make_client(public=kind == "public")
    tokens = exchange(client, pkce)
    first = refresh(client, tokens["refresh_token"])

    retry = refresh(client, tokens["refresh_token"])

    assert first.status_code == retry.status_code == HTTPStatus.OK
    assert retry.content == first.content
    assert [retry[name] for name in HEADERS] == [first[name] for name in HEADERS]
    assert retry["Cache-Control"] == "no-store" and retry["Pragma"] == "no-cache"
    # Nothing was signed or rotated again, nothing revoked; the retry is on record, as a reuse
    # that was answered, and no second "tokens refreshed".
    assert RefreshToken.objects.count() == 2 and grant_is_live()
    assert events(Kind.TOKENS_REFRESHED) == 1
    assert events(Kind.REFRESH_TOKEN_REUSED, retry=True) == 1
    # The grant lives on: the new refresh token of the (one) answer works.
    after = refresh(client, first.json()["refresh_token"])
    assert after.status_code == HTTPStatus.OK
    assert after.json()["refresh_token"] != first.json()["refresh_token"]


def test_a_retry_at_the_end_of_the_grace_still_gets_it_and_after_the_grace_is_reuse(
    exchange: Callable[..., dict[str, Any]],
    refresh: Callable[..., Any],
    confidential_client: RegisteredClient,
    frozen: Any,
) -> None:
    tokens = exchange(confidential_client)
    first = refresh(confidential_client, tokens["refresh_token"])

    frozen.shift(settings.REFRESH_RETRY_GRACE - 1)
    late_retry = refresh(confidential_client, tokens["refresh_token"])
    frozen.shift(1)
    too_late = refresh(confidential_client, tokens["refresh_token"])

    assert late_retry.content == first.content
    assert too_late.status_code == HTTPStatus.BAD_REQUEST
    assert too_late.json()["error"] == "invalid_grant"
    assert not grant_is_live()
    assert events(Kind.REFRESH_TOKEN_REUSED, retry=True) == 1
    assert refresh(confidential_client, first.json()["refresh_token"]).json()["error"] == (
        "invalid_grant"
    )


def test_without_a_grace_a_retry_is_reuse_as_before(
    exchange: Callable[..., dict[str, Any]],
    refresh: Callable[..., Any],
    confidential_client: RegisteredClient,
    settings: Any,
) -> None:
    settings.REFRESH_RETRY_GRACE = 0
    tokens = exchange(confidential_client)
    first = refresh(confidential_client, tokens["refresh_token"])

    retry = refresh(confidential_client, tokens["refresh_token"])

    assert first.status_code == HTTPStatus.OK
    assert retry.json()["error"] == "invalid_grant" and not grant_is_live()
    assert not RefreshToken.objects.filter(retry_answer__isnull=False).exists()


def test_another_client_presenting_the_token_gets_no_replay(
    exchange: Callable[..., dict[str, Any]],
    refresh: Callable[..., Any],
    make_client: Callable[..., RegisteredClient],
) -> None:
    owner, other = make_client(), make_client()
    tokens = exchange(owner)
    first = refresh(owner, tokens["refresh_token"])
    assert refresh(owner, tokens["refresh_token"]).content == first.content  # the owner's retry

    presented = refresh(other, tokens["refresh_token"])

    assert presented.status_code == HTTPStatus.BAD_REQUEST
    assert presented.json() == {"error": "invalid_grant"}
    # A used token in another client's hands has leaked: reuse, as before the grace existed.
    assert not grant_is_live()
    assert events(Kind.REFRESH_TOKEN_REUSED, retry=True) == 1  # the owner's only


def test_the_owner_without_its_secret_gets_no_replay(
    exchange: Callable[..., dict[str, Any]],
    refresh: Callable[..., Any],
    confidential_client: RegisteredClient,
) -> None:
    tokens = exchange(confidential_client)
    first = refresh(confidential_client, tokens["refresh_token"])
    impostor = RegisteredClient(confidential_client.model, "not-the-secret")

    presented = refresh(impostor, tokens["refresh_token"])

    assert presented.status_code == HTTPStatus.UNAUTHORIZED
    assert presented.json()["error"] == "invalid_client"
    # Refused before the token was looked at: the owner's own retry still gets its answer.
    assert refresh(confidential_client, tokens["refresh_token"]).content == first.content
    assert grant_is_live()


def test_a_retry_counts_against_the_clients_rate_limit(
    exchange: Callable[..., dict[str, Any]],
    refresh: Callable[..., Any],
    confidential_client: RegisteredClient,
    frozen: Any,
    settings: Any,
) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "token_client": (3, 3600)}
    tokens = exchange(confidential_client)  # 1
    first = refresh(confidential_client, tokens["refresh_token"])  # 2

    retry = refresh(confidential_client, tokens["refresh_token"])  # 3
    over = refresh(confidential_client, tokens["refresh_token"])

    assert retry.content == first.content
    assert over.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "access_token" not in over.json() and grant_is_live()


def test_a_retry_after_the_grant_was_revoked_gets_nothing(
    exchange: Callable[..., dict[str, Any]],
    refresh: Callable[..., Any],
    signed_in: HttpsClient,
    confidential_client: RegisteredClient,
) -> None:
    tokens = exchange(confidential_client)
    first = refresh(confidential_client, tokens["refresh_token"])
    assert refresh(confidential_client, tokens["refresh_token"]).content == first.content
    signed_in.post(f"/accounts/apps/{confidential_client.client_id}/revoke")  # cut off at once

    retry = refresh(confidential_client, tokens["refresh_token"])

    assert retry.json() == {"error": "invalid_grant"}


def test_a_thief_within_the_grace_gets_only_the_owners_tokens_and_is_found_out_next(
    exchange: Callable[..., dict[str, Any]],
    refresh: Callable[..., Any],
    confidential_client: RegisteredClient,
    frozen: Any,
) -> None:
    """The price of the grace (docs/security.md): a thief holding the token and the client's
    credentials, coming within the grace, gets what the owner got, and no more. The two then
    hold one refresh token, and whoever uses it second, after the grace, reveals the theft."""
    stolen = exchange(confidential_client)["refresh_token"]
    owner = refresh(confidential_client, stolen)
    thief = refresh(confidential_client, stolen)
    assert thief.content == owner.content

    frozen.shift(600)
    owner_next = refresh(confidential_client, owner.json()["refresh_token"])
    frozen.shift(600)
    thief_next = refresh(confidential_client, thief.json()["refresh_token"])

    assert owner_next.status_code == HTTPStatus.OK
    assert thief_next.json()["error"] == "invalid_grant"
    assert not grant_is_live()


def test_the_kept_answer_is_sealed_and_opens_only_with_its_token_and_row(
    exchange: Callable[..., dict[str, Any]],
    refresh: Callable[..., Any],
    confidential_client: RegisteredClient,
) -> None:
    tokens = exchange(confidential_client)
    answer = refresh(confidential_client, tokens["refresh_token"])
    used = RefreshToken.objects.get(token_hash=secret_hash(tokens["refresh_token"]))
    sealed = bytes(used.retry_answer or b"")

    assert sealed
    secrets_in_answer = [answer.json()["access_token"], answer.json()["refresh_token"]]
    for secret in [*secrets_in_answer, tokens["refresh_token"]]:
        # No 8-character piece of any token, so no token, in the stored bytes.
        pieces = {secret[i : i + 8].encode() for i in range(len(secret) - 7)}
        assert not any(piece in sealed for piece in pieces)
    assert b"access_token" not in sealed and b"refresh_token" not in sealed
    presented = tokens["refresh_token"]
    assert retries.answer_open(refresh_token=presented, row_id=used.pk, sealed=sealed) == (
        answer.content
    )
    for key in [answer.json()["refresh_token"], used.token_hash, tokens["access_token"]]:
        assert retries.answer_open(refresh_token=key, row_id=used.pk, sealed=sealed) is None
    for altered in [sealed[:-1], sealed[:5], bytes([sealed[0] ^ 1]) + sealed[1:]]:
        assert retries.answer_open(refresh_token=presented, row_id=used.pk, sealed=altered) is None
    # Moved to another row, it does not open either.
    assert retries.answer_open(refresh_token=presented, row_id=used.pk + 1, sealed=sealed) is None


def test_each_answer_is_sealed_with_its_own_nonce() -> None:
    once, twice = (retries.answer_seal(refresh_token="t", row_id=1, answer=b"{}") for _ in range(2))

    assert once != twice
    assert retries.answer_open(refresh_token="t", row_id=1, sealed=once) == b"{}"


def test_cleartokens_drops_answers_past_the_grace_and_keeps_the_others(
    exchange: Callable[..., dict[str, Any]],
    refresh: Callable[..., Any],
    confidential_client: RegisteredClient,
    frozen: Any,
) -> None:
    tokens = exchange(confidential_client)
    second = refresh(confidential_client, tokens["refresh_token"]).json()
    frozen.shift(settings.REFRESH_RETRY_GRACE)
    third = refresh(confidential_client, second["refresh_token"])
    out = StringIO()

    call_command("cleartokens", stdout=out)

    first_row, second_row, third_row = RefreshToken.objects.order_by("pk")
    assert first_row.retry_answer is None and first_row.used_at is not None  # kept for reuse
    assert second_row.retry_answer is not None and third_row.retry_answer is None
    assert "Deleted 1 refresh retry answers." in out.getvalue()
    assert refresh(confidential_client, second["refresh_token"]).content == third.content


def test_the_refresh_still_writes_once_with_the_answer_sealed_in_the_same_statement(
    exchange: Callable[..., dict[str, Any]],
    refresh: Callable[..., Any],
    confidential_client: RegisteredClient,
) -> None:
    tokens = exchange(confidential_client)

    with CaptureQueriesContext(connection) as queries:
        answer = refresh(confidential_client, tokens["refresh_token"])

    statements = [query["sql"] for query in queries.captured_queries]
    writes = [sql for sql in statements if not sql.startswith("SELECT")]
    if connection.vendor == "postgresql":
        assert len(statements) == 2 and len(writes) == 1
        assert "retry_answer" in writes[0] and "used_at" in writes[0]
    assert answer.status_code == HTTPStatus.OK
    assert RefreshToken.objects.filter(retry_answer__isnull=False).count() == 1


def test_the_loser_of_a_race_gets_the_winners_answer(
    exchange: Callable[..., dict[str, Any]],
    refresh: Callable[..., Any],
    confidential_client: RegisteredClient,
) -> None:
    """What the loser of two concurrent refreshes does, on any database: it read the token
    unused, and finds it used when it tries to rotate it."""
    tokens = exchange(confidential_client)
    stale = rows.refresh_token_with_grant(secret_hash(tokens["refresh_token"]))
    assert stale is not None and stale.used_at is None
    winner = refresh(confidential_client, tokens["refresh_token"])

    with pytest.raises(services.RefreshTokenReused):
        services.refresh_token_rotate(
            old=stale, client=confidential_client.model, new_token="lost",
            refresh_token=tokens["refresh_token"], answer=b"never sent",
        )  # fmt: skip

    assert retries.refresh_token_retry(token=stale, refresh_token=tokens["refresh_token"]) == (
        winner.content
    )
    assert not RefreshToken.objects.filter(token_hash=secret_hash("lost")).exists()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL)"
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_presentations_all_get_one_and_the_same_token_pair(
    make_client: Callable[..., RegisteredClient], code_for: Callable[..., dict[str, str]]
) -> None:
    client = make_client(first_party=True)
    http = HttpsClient()
    auth = basic_auth(client.client_id, client.secret or "")
    form = "application/x-www-form-urlencoded"
    tokens = http.post("/oauth/token", urlencode(code_for(client)), form, HTTP_AUTHORIZATION=auth)
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens.json()["refresh_token"]}

    # Hold the token's row so that every racer reads it unused and then queues on the update:
    # one wins, the others find it used, with the winner's answer beside the mark.
    with transaction.atomic():
        RefreshToken.objects.select_for_update().get()
        racers = Racers(client, refresh, count=3)
        wait_until_blocked(3)
    statuses, bodies = racers.finish()

    assert statuses == [HTTPStatus.OK] * 3
    assert bodies[0] == bodies[1] == bodies[2] and "refresh_token" in bodies[0]
    assert RefreshToken.objects.count() == 2 and grant_is_live()
    assert events(Kind.TOKENS_REFRESHED) == 1
    assert events(Kind.REFRESH_TOKEN_REUSED, retry=True) == 2
    again = http.post(
        "/oauth/token",
        urlencode({"grant_type": "refresh_token", "refresh_token": bodies[0]["refresh_token"]}),
        form,
        HTTP_AUTHORIZATION=auth,
    )
    assert again.status_code == HTTPStatus.OK


@pytest.mark.parametrize("value", ["-1", "301", "thirty"])
def test_the_grace_is_refused_outside_0_to_300_seconds(value: str) -> None:
    result = manage("check", DEBUG="true", REFRESH_RETRY_GRACE=value)

    assert result.returncode != 0 and "REFRESH_RETRY_GRACE" in result.stderr
