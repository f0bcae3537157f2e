"""Security events: every flow that matters writes one, with time, kind, person, client, address
and browser, never a secret, and at the cost of a single INSERT."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from events.models import SecurityEvent
from oauth.models import Grant
from tests.conftest import PASSWORD, RegisteredClient


def kinds() -> list[str]:
    return list(SecurityEvent.objects.order_by("created_at").values_list("kind", flat=True))


def test_password_sign_in_and_failure(browser: HttpClient, user: User) -> None:
    browser.post("/accounts/login/", {"username": "alice", "password": "wrong"},
                 HTTP_USER_AGENT="Firefox/1.0", REMOTE_ADDR="203.0.113.9")  # fmt: skip
    browser.post("/accounts/login/", {"username": "alice", "password": PASSWORD},
                 HTTP_USER_AGENT="Firefox/1.0", REMOTE_ADDR="203.0.113.9")  # fmt: skip

    failed, succeeded = SecurityEvent.objects.order_by("created_at")
    assert failed.kind == "sign_in_failed" and failed.user == user
    assert failed.detail == {"method": "password"}  # what was typed is never kept
    assert succeeded.kind == "sign_in" and succeeded.user == user
    assert succeeded.ip_address == "203.0.113.9" and succeeded.user_agent == "Firefox/1.0"
    assert PASSWORD not in str(failed.detail) and "wrong" not in str(failed.detail)


def test_consent_and_tokens(
    exchange: Callable[..., dict[str, Any]],
    token_request: Callable[..., Any],
    confidential_client: RegisteredClient,
    user: User,
) -> None:
    tokens = exchange(confidential_client)
    token_request(
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(confidential_client.client_id, confidential_client.secret),
    )

    assert sorted(kinds()[:2]) == ["client_created", "sign_in"]  # the test's setting up
    assert kinds()[2:] == ["consent_granted", "tokens_issued", "tokens_refreshed"]
    issued = SecurityEvent.objects.get(kind="tokens_issued")
    assert issued.user == user and issued.client == confidential_client.model
    stored = str(list(SecurityEvent.objects.values()))
    for secret in (tokens["refresh_token"], tokens["access_token"], confidential_client.secret):
        assert secret not in stored


def test_refresh_token_reuse_and_code_replay(
    code_for: Callable[..., dict[str, str]],
    token_request: Callable[..., Any],
    confidential_client: RegisteredClient,
    settings: Any,
) -> None:
    settings.REFRESH_RETRY_GRACE = 0  # a second presentation is reuse at once, not a retry
    auth = (confidential_client.client_id, confidential_client.secret)
    data = code_for(confidential_client)
    tokens = token_request(data, auth=auth).json()
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    token_request(refresh, auth=auth)
    token_request(refresh, auth=auth)  # reuse
    token_request(data, auth=auth)  # replay

    assert "refresh_token_reused" in kinds() and "code_replayed" in kinds()
    assert "retry" not in SecurityEvent.objects.get(kind="refresh_token_reused").detail
    replay = SecurityEvent.objects.get(kind="code_replayed")
    assert replay.detail["grant"] == str(Grant.objects.get().pk)


def test_client_created_by_command_and_key_rotated(db: None) -> None:
    call_command("createclient", "--name", "CLI app", "--redirect-uri", "https://a.example/cb",
                 stdout=StringIO())  # fmt: skip
    call_command("rotatekeys", stdout=StringIO())

    assert kinds() == ["client_created", "key_rotated"]


def test_connected_apps_revocation_is_recorded(
    exchange: Callable[..., dict[str, Any]],
    signed_in: HttpClient,
    confidential_client: RegisteredClient,
) -> None:
    exchange(confidential_client)

    signed_in.post(f"/accounts/apps/{confidential_client.client_id}/revoke")

    event = SecurityEvent.objects.get(kind="consent_revoked")
    assert event.detail == {"grants": 1}


def test_outside_text_is_made_safe_to_store(browser: HttpClient, user: User) -> None:
    browser.post("/accounts/login/", {"username": "bad\x01name\x1f", "password": "x"},
                 HTTP_USER_AGENT="agent\x00with nul")  # fmt: skip

    event = SecurityEvent.objects.get()
    assert event.user is None and event.detail == {"method": "password"}
    assert event.user_agent == "agentwith nul"


@pytest.mark.parametrize("flow", ["exchange", "refresh"])
def test_an_event_costs_one_insert(
    flow: str,
    code_for: Callable[..., dict[str, str]],
    token_request: Callable[..., Any],
    make_client: Callable[..., RegisteredClient],
) -> None:
    client = make_client(first_party=True)
    auth = (client.client_id, client.secret)
    data = code_for(client)
    if flow == "refresh":
        tokens = token_request(data, auth=auth).json()
        data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}

    with CaptureQueriesContext(connection) as queries:
        assert token_request(data, auth=auth).status_code == 200

    event_statements = [q["sql"] for q in queries.captured_queries if "securityevent" in q["sql"]]
    assert len(event_statements) == 1  # on PostgreSQL, the same statement as the flow's rows
    assert event_statements[0].count('INSERT INTO "oauth_securityevent"') == 1
