"""`manage.py cleartokens`: expired and revoked rows go, in bounded batches; live ones stay."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from oauth.models import AuthorizationCode, Grant, RefreshToken
from tests.conftest import RegisteredClient

DELETE_BY_ID = re.compile(r'DELETE FROM "\w+" WHERE "\w+"\."\w+" IN \((?P<ids>[^()]*)\)')


@pytest.fixture
def many_rows(user: User, make_client: Callable[..., RegisteredClient]) -> dict[str, Any]:
    client = make_client().model
    now = timezone.now()
    past, future = now - timedelta(minutes=1), now + timedelta(days=1)

    def grants(count: int, **fields: Any) -> list[Grant]:
        return Grant.objects.bulk_create(
            Grant(user=user, client=client, scope="openid", auth_time=now, **fields)
            for _ in range(count)
        )

    live, revoked, ended = (
        grants(20, expires_at=future),
        grants(20, expires_at=future, revoked_at=now),
        grants(20, expires_at=past),
    )
    tokens = []
    for index in range(4500):
        grant = (live, revoked, ended)[index % 3][index % 20]
        expired = index % 2 == 0
        tokens.append(
            RefreshToken(
                token_hash=f"{index:064x}",
                grant=grant,
                expires_at=past if expired else future,
                used_at=now if index % 5 == 0 else None,
            )
        )
    RefreshToken.objects.bulk_create(tokens)
    AuthorizationCode.objects.bulk_create(
        AuthorizationCode(
            code_hash=f"c{index:063x}",
            client=client,
            user=user,
            scope="openid",
            auth_time=now,
            expires_at=past if index < 2000 else future,
        )
        for index in range(2500)
    )
    return {"live": live}


def test_clears_expired_and_revoked_rows_in_batches(many_rows: dict[str, Any]) -> None:
    out = StringIO()
    live_ids = {grant.pk for grant in many_rows["live"]}
    # Refresh tokens that should survive: unexpired (used or not) of a live grant.
    survivors = RefreshToken.objects.filter(
        grant_id__in=live_ids, expires_at__gt=timezone.now()
    ).count()

    with CaptureQueriesContext(connection) as queries:
        call_command("cleartokens", "--batch-size", "500", stdout=out)

    assert set(RefreshToken.objects.values_list("grant_id", flat=True)) <= live_ids
    assert RefreshToken.objects.count() == survivors
    assert RefreshToken.objects.filter(used_at__isnull=False).exists()  # kept to detect reuse
    assert AuthorizationCode.objects.count() == 500
    assert set(Grant.objects.values_list("pk", flat=True)) == live_ids
    assert "Deleted 2000 authorization codes." in out.getvalue()
    assert "Deleted 40 grants." in out.getvalue()
    # Bounded batches: rows are picked at most 500 at a time, and every DELETE names its rows,
    # never more than 500 (a DELETE by condition could take the whole table in one statement).
    statements = [q["sql"] for q in queries.captured_queries]
    picks = [sql for sql in statements if sql.startswith("SELECT") and sql.endswith("LIMIT 500")]
    deletes = [sql for sql in statements if sql.startswith("DELETE")]
    assert len(picks) >= (4500 - survivors + 2000 + 40) // 500
    assert deletes
    for sql in deletes:
        named = DELETE_BY_ID.fullmatch(sql)
        assert named is not None, sql
        assert len(named["ids"].split(",")) <= 500


def test_batch_size_must_be_positive(db: None) -> None:
    with pytest.raises(CommandError):
        call_command("cleartokens", "--batch-size", "0")
