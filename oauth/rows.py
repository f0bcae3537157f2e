"""The hot paths' reads and writes, as SQL written out once instead of compiled per request.

The token and authorization endpoints are CPU-bound, and Django compiles a queryset to SQL every
time it runs: for the joined lookup of a refresh token that costs several times what PostgreSQL
spends answering it (docs/behaviour.md). So these few statements are built here from
the models' metadata, and their rows become model instances the way the ORM makes them (with
the database's own converters). On PostgreSQL the writes of one token response are a single
statement, through data-modifying WITH clauses: all or nothing, one round trip, one commit.
Elsewhere (SQLite, for a first look) they are the ORM's statements, one after another.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from django.db.models.expressions import DatabaseDefault

from accounts.models import User

from .models import AuthorizationCode, Consent, Grant, RefreshToken, SecurityEvent

M = TypeVar("M", bound=Model)
Converter = Callable[[Any, Any, Any], Any]


@dataclass(frozen=True)
class Shape:
    """How one model's rows look on one database: its quoted table and columns, and the
    converters the ORM applies to the values of some of them."""

    model: type[Model]
    table: str
    fields: tuple[Field[Any, Any], ...]
    columns: tuple[str, ...]
    converters: tuple[tuple[int, Any, tuple[Converter, ...]], ...]

    def column(self, name: str) -> str:
        """The quoted column of the field called `name`."""
        return self.columns[[field.name for field in self.fields].index(name)]

    def select(self, alias: str) -> str:
        return ", ".join(f"{alias}.{column}" for column in self.columns)

    def instance(self, values: Sequence[Any], db: BaseDatabaseWrapper) -> Any:
        """A model instance from the values of `select()`, as a queryset would load it."""
        values = list(values)
        for index, expression, converters in self.converters:
            for convert in converters:
                values[index] = convert(values[index], expression, db)
        return self.model.from_db(db.alias, None, values)

    def insertion(self, instance: Model, db: BaseDatabaseWrapper) -> tuple[str, str, list[Any]]:
        """Columns, placeholders and values of `instance` as a new row, as save() inserts it
        (an automatic primary key left to the database)."""
        names, values = [], []
        for field, column in zip(self.fields, self.columns, strict=True):
            if field.generated or (field.primary_key and getattr(instance, field.attname) is None):
                continue
            value = field.pre_save(instance, add=True)
            if isinstance(value, DatabaseDefault):
                continue  # the column left out, so the database's default applies
            names.append(column)
            values.append(field.get_db_prep_save(value, db))
        return ", ".join(names), ", ".join(["%s"] * len(names)), values


_shapes: dict[tuple[type[Model], str], Shape] = {}


def shape(model: type[Model], db: BaseDatabaseWrapper) -> Shape:
    key = (model, db.vendor)
    if key not in _shapes:
        quote = db.ops.quote_name
        fields: list[Field[Any, Any]] = list(model._meta.concrete_fields)
        converters = []
        for index, field in enumerate(fields):
            expression = field.get_col(model._meta.db_table)  # a foreign key: as its target
            found = db.ops.get_db_converters(expression) + expression.get_db_converters(db)
            if found:
                converters.append((index, expression, tuple(found)))
        _shapes[key] = Shape(
            model=model,
            table=quote(model._meta.db_table),
            fields=tuple(fields),
            columns=tuple(quote(field.column) for field in fields),
            converters=tuple(converters),
        )
    return _shapes[key]


def _split(row: Sequence[Any], *shapes: Shape) -> list[Sequence[Any]]:
    parts, start = [], 0
    for each in shapes:
        end = start + len(each.columns)
        parts.append(row[start:end])
        start = end
    return parts


def _prep(model: type[Model], field_name: str, value: Any, db: BaseDatabaseWrapper) -> Any:
    """A value as the ORM would send it to the database in a lookup on `field_name`."""
    field = model._meta.get_field(field_name)
    return field.get_db_prep_value(field.to_python(value), db)  # type: ignore[union-attr]


def _fetch_one(db: BaseDatabaseWrapper, sql: str, params: Sequence[Any]) -> Sequence[Any] | None:
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def refresh_token_with_grant(token_hash: str) -> RefreshToken | None:
    """The refresh token with this hash, its grant and the grant's person: one SELECT."""
    db = connections[DEFAULT_DB_ALIAS]
    token, grant, user = shape(RefreshToken, db), shape(Grant, db), shape(User, db)
    row = _fetch_one(
        db,
        f"SELECT {token.select('t')}, {grant.select('g')}, {user.select('u')} "
        f"FROM {token.table} t JOIN {grant.table} g ON g.id = t.grant_id "
        f"JOIN {user.table} u ON u.id = g.user_id WHERE t.token_hash = %s",
        [token_hash],
    )
    if row is None:
        return None
    token_values, grant_values, user_values = _split(row, token, grant, user)
    found, its_grant = token.instance(token_values, db), grant.instance(grant_values, db)
    _cache(its_grant, "user", user.instance(user_values, db))
    _cache(found, "grant", its_grant)
    return found  # type: ignore[no-any-return]


def user(user_pk: Any) -> User | None:
    """The person with this primary key: read on every request a session is signed in to."""
    return _row(User, id=user_pk)


def consent(user_pk: Any, client_pk: int) -> Consent | None:
    """What a person has allowed a client, if anything."""
    return _row(Consent, user=user_pk, client=client_pk)


def _row(model: type[M], **equal: Any) -> M | None:
    """The one row of `model` whose fields have these values: one SELECT."""
    db = connections[DEFAULT_DB_ALIAS]
    rows = shape(model, db)
    row = _fetch_one(
        db,
        f"SELECT {rows.select('r')} FROM {rows.table} r WHERE "
        + " AND ".join(f"r.{rows.column(name)} = %s" for name in equal),
        [_prep(model, name, value, db) for name, value in equal.items()],
    )
    return None if row is None else rows.instance(row, db)  # type: ignore[no-any-return]


def insert(instance: M) -> M:
    """Insert a new row, as save(force_insert=True) would, without compiling the statement."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        instance.save(force_insert=True)
        return instance
    rows = shape(type(instance), db)
    columns, placeholders, params = rows.insertion(instance, db)
    primary_key = instance._meta.pk
    assert primary_key is not None
    row = _fetch_one(
        db,
        f"INSERT INTO {rows.table} ({columns}) VALUES ({placeholders}) "
        f"RETURNING {db.ops.quote_name(primary_key.column)}",
        params,
    )
    assert row is not None
    instance.pk = row[0]
    instance._state.adding, instance._state.db = False, db.alias
    return instance


def code_with_grant(code_hash: str, client_pk: int) -> AuthorizationCode | None:
    """The code with this hash issued to this client, its person, and the grant it started if
    it was exchanged already: one SELECT."""
    db = connections[DEFAULT_DB_ALIAS]
    code, user, grant = shape(AuthorizationCode, db), shape(User, db), shape(Grant, db)
    row = _fetch_one(
        db,
        f"SELECT {code.select('c')}, {user.select('u')}, {grant.select('g')} "
        f"FROM {code.table} c JOIN {user.table} u ON u.id = c.user_id "
        f"LEFT JOIN {grant.table} g ON g.authorization_code_id = c.id "
        "WHERE c.code_hash = %s AND c.client_id = %s",
        [code_hash, client_pk],
    )
    if row is None:
        return None
    code_values, user_values, grant_values = _split(row, code, user, grant)
    found = code.instance(code_values, db)
    _cache(found, "user", user.instance(user_values, db))
    _cache(found, "grant", grant.instance(grant_values, db) if any(grant_values) else None)
    return found  # type: ignore[no-any-return]


def _cache(instance: Model, relation: str, value: Model | None) -> None:
    """Hold a related object on `instance`, as select_related would."""
    instance._meta.get_field(relation).set_cached_value(instance, value)  # type: ignore[union-attr]


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
    token_clause, token_params = "", []
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
        return cursor.rowcount == 1


def _grant_start_one_by_one(
    grant: Grant, first_token: RefreshToken | None, event: SecurityEvent
) -> bool:
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


def standalone_statement() -> AbstractContextManager[Any]:
    """A statement that may fail on a constraint. In autocommit (production) it stands alone;
    inside a transaction it gets a savepoint, so the failure does not abort the transaction."""
    in_transaction = connections[DEFAULT_DB_ALIAS].in_atomic_block
    return transaction.atomic() if in_transaction else nullcontext()


def refresh_token_rotate(old: RefreshToken, successor: RefreshToken, event: SecurityEvent) -> bool:
    """Mark `old` used, insert its successor and the event. False, writing nothing, when `old`
    was used meanwhile: only the row's own columns are in the WHERE, which PostgreSQL re-checks
    against a concurrent winner's committed row (a join or subquery would let both through)."""
    db = connections[DEFAULT_DB_ALIAS]
    used_at = successor.created_at
    if db.vendor != "postgresql":
        claimed = RefreshToken.objects.filter(pk=old.pk, used_at__isnull=True).update(
            used_at=used_at
        )
        if claimed:
            successor.save(force_insert=True)
            event.save(force_insert=True)
        return bool(claimed)
    tokens, events = shape(RefreshToken, db), shape(SecurityEvent, db)
    token_columns, token_values, token_params = tokens.insertion(successor, db)
    event_columns, event_values, event_params = events.insertion(event, db)
    with db.cursor() as cursor:
        cursor.execute(
            f"WITH claimed AS (UPDATE {tokens.table} SET used_at = %s "
            "WHERE id = %s AND used_at IS NULL RETURNING id), "
            f"successor AS (INSERT INTO {tokens.table} ({token_columns}) "
            f"SELECT {token_values} FROM claimed) "
            f"INSERT INTO {events.table} ({event_columns}) SELECT {event_values} FROM claimed",
            [used_at, old.pk, *token_params, *event_params],
        )
        return cursor.rowcount == 1
