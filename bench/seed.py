"""`make bench BENCH_SEED=1000000`: tables of millions before measuring.

COPY loads `count` people, each with a consent to the bench client, a grant and a refresh
token, and `count` security events over 60 days; half the grants and refresh tokens have
expired, for `manage.py cleartokens` to remove while the refresh benchmark runs (run.py).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

EVENT_KINDS = ["sign_in", "tokens_issued", "tokens_refreshed", "tokens_refreshed",
               "sign_in_failed", "consent_granted"]  # fmt: skip
METHODS = ["password", "google", "naver", "kakao"]


Rows = Iterator[tuple[Any, ...]]


def _copy(connection: psycopg.Connection[Any], table: str, columns: str, rows: Rows) -> None:
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def seed(database_url: str, count: int, *, client_pk: int) -> float:
    """Load the rows; returns the seconds it took."""
    started = time.monotonic()
    now = datetime.now(UTC)
    users = [uuid.UUID(int=n + 1) for n in range(count)]
    grants = [uuid.UUID(int=(1 << 64) + n) for n in range(count)]
    with psycopg.connect(database_url, autocommit=True) as connection:
        _copy(connection, "accounts_user",
              "id, password, is_superuser, username, first_name, last_name, email, is_staff, "
              "is_active, date_joined, email_verified, name, email_canonical, picture, updated_at",
              ((users[n], "!", False, f"seed{n}", "", "", f"seed{n}@example.com", False, True,
                now, True, "", f"seed{n}@example.com", "", now) for n in range(count)))  # fmt: skip
        _copy(connection, "oauth_consent", "scope, created_at, updated_at, client_id, user_id",
              (("openid", now, now, client_pk, users[n]) for n in range(count)))  # fmt: skip

        def expiry(n: int) -> datetime:
            return now - timedelta(days=1) if n % 2 else now + timedelta(days=30)

        _copy(connection, "oauth_grant",
              "id, scope, auth_time, created_at, expires_at, client_id, user_id, sid",
              ((grants[n], "openid profile", now, now - timedelta(days=40), expiry(n), client_pk,
                users[n], "") for n in range(count)))  # fmt: skip
        _copy(connection, "oauth_refreshtoken", "token_hash, created_at, expires_at, grant_id",
              ((hashlib.sha256(b"seed%d" % n).hexdigest(), now - timedelta(days=40), expiry(n),
                grants[n]) for n in range(count)))  # fmt: skip
        _copy(connection, "oauth_securityevent",
              "created_at, kind, ip_address, user_agent, detail, client_id, user_id, pseudonym",
              ((now - timedelta(seconds=(n * 5183) % (60 * 86400)), EVENT_KINDS[n % 6],
                "203.0.113.7", "bench", f'{{"method": "{METHODS[n % 4]}"}}', client_pk,
                users[n], "") for n in range(count)))  # fmt: skip
        connection.execute("ANALYZE")
    return time.monotonic() - started


def database_size(database_url: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as connection:
        row = connection.execute("SELECT pg_database_size(current_database())").fetchone()
    return int(row[0]) if row else 0


def vacuum(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
