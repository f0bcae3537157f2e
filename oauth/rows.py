"""The hot paths' statements: the token and authorization endpoints' lookups and writes, written
once (see infra/rows.py for why and how).

On PostgreSQL the writes of one token response are a single statement, through data-modifying
WITH clauses: all or nothing, one round trip, one commit. Elsewhere (SQLite, for a first look)
they are the ORM's statements, one after another.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections

from events.models import SecurityEvent
from infra.rows import cache_related, fetch_one, one, shape, split, standalone_statement

from .models import AuthorizationCode, Consent, Grant, RefreshToken


def refresh_token_with_grant(token_hash: str) -> RefreshToken | None:
    """The refresh token with this hash, its grant and the grant's person: one SELECT."""
    db = connections[DEFAULT_DB_ALIAS]
    token, grant, user = shape(RefreshToken, db), shape(Grant, db), shape(get_user_model(), db)
    row = fetch_one(
        db,
        f"SELECT {token.select('t')}, {grant.select('g')}, {user.select('u')} "
        f"FROM {token.table} t JOIN {grant.table} g ON g.id = t.grant_id "
        f"JOIN {user.table} u ON u.{user.key} = g.user_id WHERE t.token_hash = %s",
        [token_hash],
    )
    if row is None:
        return None
    token_values, grant_values, user_values = split(row, token, grant, user)
    found: RefreshToken = token.instance(token_values, db)
    its_grant: Grant = grant.instance(grant_values, db)
    cache_related(its_grant, "user", user.instance(user_values, db))
    cache_related(found, "grant", its_grant)
    return found


def consent(user_pk: Any, client_pk: int) -> Consent | None:
    """What a person has allowed a client, if anything."""
    return one(Consent, user=user_pk, client=client_pk)


def code_with_grant(code_hash: str, client_pk: int) -> AuthorizationCode | None:
    """The code with this hash issued to this client, its person, and the grant it started if
    it was exchanged already: one SELECT."""
    db = connections[DEFAULT_DB_ALIAS]
    code, user, grant = shape(AuthorizationCode, db), shape(get_user_model(), db), shape(Grant, db)
    row = fetch_one(
        db,
        f"SELECT {code.select('c')}, {user.select('u')}, {grant.select('g')} "
        f"FROM {code.table} c JOIN {user.table} u ON u.{user.key} = c.user_id "
        f"LEFT JOIN {grant.table} g ON g.authorization_code_id = c.id "
        "WHERE c.code_hash = %s AND c.client_id = %s",
        [code_hash, client_pk],
    )
    if row is None:
        return None
    code_values, user_values, grant_values = split(row, code, user, grant)
    found: AuthorizationCode = code.instance(code_values, db)
    cache_related(found, "user", user.instance(user_values, db))
    cache_related(found, "grant", grant.instance(grant_values, db) if any(grant_values) else None)
    return found


def grant_start(grant: Grant, first_token: RefreshToken | None, event: SecurityEvent) -> bool:
    """Insert the grant a code starts, its first refresh token and the event. False, writing
    nothing, when the code has started a grant already (a code is used up by this insert), or
    is no longer there to start one: expired, voided by a revocation (services.grants_end) or
    deleted by cleartokens since it was read. The code's row is locked, so a revocation waits
    for this statement, or this statement sees the code voided."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        return _grant_start_one_by_one(grant, first_token, event)
    codes = shape(AuthorizationCode, db)
    grants, tokens, events = shape(Grant, db), shape(RefreshToken, db), shape(SecurityEvent, db)
    grant_columns, grant_values, grant_params = grants.insertion(grant, db)
    event_columns, event_values, event_params = events.insertion(event, db)
    token_clause, token_params = "", list[Any]()
    if first_token is not None:
        token_columns, token_values, token_params = tokens.insertion(first_token, db)
        token_clause = (
            f", first_token AS (INSERT INTO {tokens.table} ({token_columns}) "
            f"SELECT {token_values} FROM started)"
        )
    with db.cursor() as cursor:
        cursor.execute(
            f"WITH live AS (SELECT c.{codes.column('id')} FROM {codes.table} c "
            f"WHERE c.{codes.column('id')} = %s AND c.{codes.column('expires_at')} > %s "
            "FOR UPDATE), "
            f"started AS (INSERT INTO {grants.table} ({grant_columns}) "
            f"SELECT {grant_values} FROM live "
            "ON CONFLICT (authorization_code_id) DO NOTHING RETURNING id)"
            f"{token_clause} "
            f"INSERT INTO {events.table} ({event_columns}) SELECT {event_values} FROM started",
            [
                grant.authorization_code_id, grant.created_at,
                *grant_params, *token_params, *event_params,
            ],
        )  # fmt: skip
        started: int = cursor.rowcount
        return started == 1


def _grant_start_one_by_one(
    grant: Grant, first_token: RefreshToken | None, event: SecurityEvent
) -> bool:
    assert grant.authorization_code_id is not None  # a grant a code starts names it
    live = AuthorizationCode.objects.filter(
        pk=grant.authorization_code_id, expires_at__gt=grant.created_at
    )
    if not live.exists():
        return False
    try:
        with standalone_statement():
            grant.save(force_insert=True)
    except IntegrityError:
        return False
    if first_token is not None:
        first_token.save(force_insert=True)
    event.save(force_insert=True)
    return True


def refresh_token_rotate(
    old: RefreshToken, successor: RefreshToken, event: SecurityEvent, retry_answer: bytes | None
) -> bool:
    """Mark `old` used, keeping `retry_answer` (sealed) beside the mark, insert its successor and
    the event. False, writing nothing, when `old` was used meanwhile: only the row's own columns
    are in the WHERE, which PostgreSQL re-checks against a concurrent winner's committed row (a
    join or subquery would let both through). The answer is set by the same UPDATE as the mark,
    so whoever sees the token used sees the answer too."""
    db = connections[DEFAULT_DB_ALIAS]
    used_at = successor.created_at
    if db.vendor != "postgresql":
        claimed = RefreshToken.objects.filter(pk=old.pk, used_at__isnull=True).update(
            used_at=used_at, retry_answer=retry_answer
        )
        if claimed:
            successor.save(force_insert=True)
            event.save(force_insert=True)
        return bool(claimed)
    tokens, events = shape(RefreshToken, db), shape(SecurityEvent, db)
    token_columns, token_values, token_params = tokens.insertion(successor, db)
    event_columns, event_values, event_params = events.insertion(event, db)
    answer_column = tokens.column("retry_answer")
    with db.cursor() as cursor:
        cursor.execute(
            f"WITH claimed AS (UPDATE {tokens.table} SET used_at = %s, {answer_column} = %s "
            "WHERE id = %s AND used_at IS NULL RETURNING id), "
            f"successor AS (INSERT INTO {tokens.table} ({token_columns}) "
            f"SELECT {token_values} FROM claimed) "
            f"INSERT INTO {events.table} ({event_columns}) SELECT {event_values} FROM claimed",
            [used_at, retry_answer, old.pk, *token_params, *event_params],
        )
        rotated: int = cursor.rowcount
        return rotated == 1
