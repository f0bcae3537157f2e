"""Statements written once instead of compiled per request, and model instances made from their
rows the way the ORM makes them.

The token and authorization endpoints are CPU-bound, and Django compiles a queryset to SQL every
time it runs: for a joined lookup that costs several times what PostgreSQL spends answering it
(see docs/behaviour.md). So the hot paths' few statements are built from the models' metadata
(`shape`), and their rows become model instances with the database's own converters. The
statements themselves live with the flows that run them (oauth/rows.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from django.db.models.expressions import DatabaseDefault

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
    key: str  # the quoted column of the primary key
    attnames: tuple[str, ...]
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
        return self.model.from_db(db.alias, self.attnames, values)

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
            columns=tuple(quote(column_of(field)) for field in fields),
            key=quote(column_of(model._meta.pk)),
            attnames=tuple(field.attname for field in fields),
            converters=tuple(converters),
        )
    return _shapes[key]


def column_of(field: Field[Any, Any]) -> str:
    """A concrete field's column (only fields without one, such as relations' reverse sides,
    have none)."""
    if field.column is None:
        raise ValueError(f"{field} has no column")
    return field.column


def split(row: Sequence[Any], *shapes: Shape) -> list[Sequence[Any]]:
    """A joined row's values, one part per shape, in the order they were selected."""
    parts, start = [], 0
    for each in shapes:
        end = start + len(each.columns)
        parts.append(row[start:end])
        start = end
    return parts


def prep(model: type[Model], field_name: str, value: Any, db: BaseDatabaseWrapper) -> Any:
    """A value as the ORM would send it to the database in a lookup on `field_name`."""
    field = model._meta.get_field(field_name)
    return field.get_db_prep_value(field.to_python(value), db)  # type: ignore[union-attr]


def fetch_one(db: BaseDatabaseWrapper, sql: str, params: Sequence[Any]) -> Sequence[Any] | None:
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        found: Sequence[Any] | None = cursor.fetchone()
        return found


def one(model: type[M], **equal: Any) -> M | None:
    """The one row of `model` whose fields have these values: one SELECT."""
    db = connections[DEFAULT_DB_ALIAS]
    rows = shape(model, db)
    found = fetch_one(
        db,
        f"SELECT {rows.select('r')} FROM {rows.table} r WHERE "
        + " AND ".join(f"r.{rows.column(name)} = %s" for name in equal),
        [prep(model, name, value, db) for name, value in equal.items()],
    )
    return None if found is None else rows.instance(found, db)


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
    inserted = fetch_one(
        db,
        f"INSERT INTO {rows.table} ({columns}) VALUES ({placeholders}) "
        f"RETURNING {db.ops.quote_name(column_of(primary_key))}",
        params,
    )
    assert inserted is not None
    instance.pk = inserted[0]
    instance._state.adding, instance._state.db = False, db.alias
    return instance


def cache_related(instance: Model, relation: str, value: Model | None) -> None:
    """Hold a related object on `instance`, as select_related would."""
    instance._meta.get_field(relation).set_cached_value(instance, value)  # type: ignore[union-attr]


def standalone_statement() -> AbstractContextManager[Any]:
    """A statement that may fail on a constraint. In autocommit (production) it stands alone;
    inside a transaction it gets a savepoint, so the failure does not abort the transaction."""
    in_transaction = connections[DEFAULT_DB_ALIAS].in_atomic_block
    return transaction.atomic() if in_transaction else nullcontext()
