"""Query budgets of the hot paths, pinned exactly on PostgreSQL, and no slow password hash on
any of them (client secrets and tokens are high-entropy: SHA-256 is enough, see hashing.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib.auth import hashers
from django.db import connection

from accounts.models import User
from oauth.models import ClientMember
from tests.conftest import HttpsClient, RegisteredClient, authorize_url, basic_auth, query

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the budgets are PostgreSQL's query counts"
    ),
    # Outside a test transaction, as in production: no savepoints padding the counts.
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def no_password_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a slow password hash ran on a hot path")

    for hasher in (hashers.Argon2PasswordHasher, hashers.PBKDF2PasswordHasher):
        monkeypatch.setattr(hasher, "encode", refuse)
        monkeypatch.setattr(hasher, "verify", refuse)
    yield


@pytest.fixture
def setting_up(user: User, make_client: Callable[..., RegisteredClient]) -> dict[str, Any]:
    """A person who has consented to a client once, with a session and tokens."""
    client = make_client(name="Budgeted")
    browser = HttpsClient()
    browser.force_login(user)
    url = authorize_url(client)
    browser.post(url, {"decision": "allow"})
    return {"client": client, "browser": browser}


def token_post(browser: HttpsClient, client: RegisteredClient, data: dict[str, str]) -> Any:
    return browser.post(
        "/oauth/token",
        urlencode(data),
        "application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic_auth(client.client_id, client.secret or ""),
    )


def code(setting_up: dict[str, Any]) -> str:
    response = setting_up["browser"].get(authorize_url(setting_up["client"]))
    return query(response["Location"])["code"]


def exchange(setting_up: dict[str, Any]) -> dict[str, Any]:
    client = setting_up["client"]
    data = {
        "grant_type": "authorization_code",
        "code": code(setting_up),
        "redirect_uri": client.model.redirect_uris[0],
    }
    return token_post(setting_up["browser"], client, data).json()


def test_authorize_with_remembered_consent(
    setting_up: dict[str, Any], django_assert_num_queries: Any, no_password_hashing: None
) -> None:
    # The budget is 6. The session comes from the cache and the client from memory; what is
    # left is the signed-in person, the remembered consent and the new code.
    with django_assert_num_queries(3):
        response = setting_up["browser"].get(authorize_url(setting_up["client"]))

    assert "code" in query(response["Location"])


def test_authorize_for_a_client_in_development(
    setting_up: dict[str, Any],
    user: User,
    django_assert_num_queries: Any,
    no_password_hashing: None,
) -> None:
    """A client in development costs one more, indexed, read: is this person one of its own."""
    client = setting_up["client"]
    ClientMember.objects.create(client=client.model, user=user, role="tester")
    client.change(live=False)
    setting_up["browser"].get(authorize_url(client))  # the changed client is read again

    with django_assert_num_queries(4):
        response = setting_up["browser"].get(authorize_url(client))

    assert "code" in query(response["Location"])


def test_code_exchange(
    setting_up: dict[str, Any], django_assert_num_queries: Any, no_password_hashing: None
) -> None:
    client = setting_up["client"]
    data = {
        "grant_type": "authorization_code",
        "code": code(setting_up),
        "redirect_uri": client.model.redirect_uris[0],
    }
    exchange(setting_up)  # signing keys are created on first need; not part of the budget

    # The budget is 5. The client is held in memory; the code is read with its person, and the
    # grant, its first refresh token and the security event are written in one statement.
    with django_assert_num_queries(2):
        response = token_post(setting_up["browser"], client, data)

    assert response.status_code == 200


def test_refresh(
    setting_up: dict[str, Any], django_assert_num_queries: Any, no_password_hashing: None
) -> None:
    tokens = exchange(setting_up)
    data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}

    # The budget is 5. The token is read with its grant and person; marking it used, adding its
    # successor and the security event are one statement.
    with django_assert_num_queries(2):
        response = token_post(setting_up["browser"], setting_up["client"], data)

    assert response.status_code == 200


def test_introspection(
    setting_up: dict[str, Any], django_assert_max_num_queries: Any, no_password_hashing: None
) -> None:
    tokens = exchange(setting_up)
    client = setting_up["client"]

    with django_assert_max_num_queries(3):  # client, grant
        response = setting_up["browser"].post(
            "/oauth/introspect",
            urlencode({"token": tokens["access_token"]}),
            "application/x-www-form-urlencoded",
            HTTP_AUTHORIZATION=basic_auth(client.client_id, client.secret or ""),
        )

    assert response.json()["active"] is True


def test_api_me(
    setting_up: dict[str, Any], django_assert_num_queries: Any, no_password_hashing: None
) -> None:
    tokens = exchange(setting_up)

    with django_assert_num_queries(0):
        response = HttpsClient().get(
            "/api/me", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}"
        )

    assert response.status_code == 200


def test_the_token_endpoints_statements_are_prepared_once_per_connection(
    setting_up: dict[str, Any],
) -> None:
    """Planning them on every request would cost PostgreSQL more than running them."""
    tokens = exchange(setting_up)
    for _ in range(6):
        data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
        tokens = token_post(setting_up["browser"], setting_up["client"], data).json()

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]
    assert any("WHERE t.token_hash = $1" in statement for statement in prepared)
    assert any("WITH claimed AS (UPDATE" in statement for statement in prepared)


def test_the_tables_token_responses_write_carry_no_unused_index() -> None:
    """Each token response inserts into these tables, and each index is one more write. A
    LIKE-pattern index (what unique=True or db_index=True adds to a text column on PostgreSQL)
    serves no query of theirs: hashes and kinds are only ever compared whole."""
    tables = ["oauth_authorizationcode", "oauth_grant", "oauth_refreshtoken", "oauth_securityevent"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = ANY(%s) AND indexdef LIKE %s",
            [tables, "%pattern_ops%"],
        )
        assert cursor.fetchall() == []
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname IN (%s, %s)",
            ["refresh_token_hash_unique", "code_hash_unique"],
        )
        assert [definition.startswith("CREATE UNIQUE INDEX") for (definition,) in cursor] == [
            True,
            True,
        ]
