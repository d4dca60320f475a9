"""Fast writes of many rows: PostgreSQL's COPY, `bulk_create` elsewhere.

Ingestion and the demo data insert hundreds of thousands of rows; `bulk_create` spends
most of its time building and quoting SQL. COPY takes the rows as they are. Ids are
taken from the table's sequence first, so the objects have their primary keys as
`bulk_create` would give them; rows nobody needs as objects go in as plain values
(`insert_rows`), and objects that are needed are made cheaply (`build`).
"""

import functools
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import orjson
from django.db import connection, models
from django.db.models import NOT_PROVIDED, Lookup, QuerySet
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

BATCH_SIZE = 2000


@models.Field.register_lookup
class AnyOf(Lookup):
    """`field = ANY(%s)`: PostgreSQL takes the values as one array parameter, where `__in`
    sends (and quotes) one parameter each. Used through `matching`."""

    lookup_name = "any_of"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        return "%s", [list(value)]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


def matching(queryset: QuerySet, field: str, values: Iterable) -> QuerySet:
    """`queryset.filter(field__in=values)`, cheaper for thousands of values on PostgreSQL."""
    lookup = "any_of" if connection.vendor == "postgresql" else "in"
    return queryset.filter(**{f"{field}__{lookup}": list(values)})


def build[M: models.Model](model: type[M], values: dict[str, Any]) -> M:
    """`model(**values)` made several times faster for objects made by the thousand: the
    values are written straight into the new object, as `Model.__init__` would write them
    but without its keyword handling and `pre_init`/`post_init` signals (the constructor
    is used when the model has receivers). Keys are attnames (`workspace_id`, not
    `workspace`); a field not given takes its default."""
    plan = _plan(model)
    if unknown := values.keys() - plan.attnames:
        raise TypeError(f"{model.__name__} has no field attnames {sorted(unknown)}")
    row = [
        values[name] if name in values else default() if default else constant
        for name, constant, default in plan.fields
    ]
    if not plan.plain or pre_init.has_listeners(model) or post_init.has_listeners(model):
        return model(**dict(zip(plan.names, row, strict=True)))
    obj = model.__new__(model)
    obj._state = ModelState()
    obj.__dict__.update(zip(plan.names, row, strict=True))
    return obj


@dataclass(frozen=True)
class _Plan:
    attnames: frozenset[str]
    names: tuple[str, ...]
    # (attname, constant default, or the callable that makes one)
    fields: tuple[tuple[str, Any, Callable[[], Any] | None], ...]
    # Every field's attribute is a plain one, which Model.__init__ just stores.
    plain: bool


@functools.cache
def _plan(model: type[models.Model]) -> _Plan:
    # The database computes generated fields; the object reads them when asked.
    fields = [f for f in model._meta.concrete_fields if not f.generated]
    plain_types = (DeferredAttribute, ForeignKeyDeferredAttribute)
    return _Plan(
        attnames=frozenset(f.attname for f in fields),
        names=tuple(f.attname for f in fields),
        fields=tuple(
            # A field without a default gets None or "": the same each time.
            (f.attname, f.get_default(), None)
            if not f.has_default() and f.db_default is NOT_PROVIDED
            else (f.attname, None, f.get_default)
            for f in fields
        ),
        plain=all(type(model.__dict__.get(f.attname)) in plain_types for f in fields),
    )


def insert(objects: Sequence[models.Model]) -> None:
    """Insert new model objects (all of one model) and set their primary keys.

    Fields are saved as `bulk_create` saves them (defaults, `auto_now`), but no signal
    is sent and `save()` is not called.
    """
    if not objects:
        return
    model = type(objects[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects, batch_size=BATCH_SIZE)
        return
    missing = [obj for obj in objects if obj.pk is None]
    for obj, pk in zip(missing, reserve_ids(model, len(missing)), strict=True):
        obj.pk = pk
    fields = [f for f in model._meta.concrete_fields if not f.generated]
    values = attrgetter(*(f.attname for f in fields))
    json_columns = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    # `auto_now` / `auto_now_add` times are filled in on save, as `bulk_create` does.
    stamped = [
        f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]

    alias = connection.alias

    def rows() -> Iterable[list]:
        # Values go in as the objects hold them: psycopg adapts strings, numbers, times,
        # UUIDs and None itself; JSON is written out.
        for obj in objects:
            for f in stamped:
                f.pre_save(obj, True)
            row = list(values(obj))
            for i in json_columns:
                row[i] = dump_json(row[i])
            obj._state.adding = False
            obj._state.db = alias
            yield row

    copy_rows(model, fields, rows())


def dump_json(value: object) -> str:
    """JSON text for a jsonb column: orjson in C, the standard library for what orjson
    refuses (integers past 64 bits, keys that are not strings). Both give the same jsonb,
    but for NaN and infinities, which jsonb cannot hold: orjson writes null (ingestion
    refuses them before)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


def insert_pairs(through: type[models.Model], columns: Sequence[str], pairs: Iterable) -> None:
    """Insert rows of two foreign keys (a many-to-many table), e.g. (alert id, entity id)."""
    insert_rows(through, columns, pairs)


def insert_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable) -> None:
    """Insert rows of values, in the order of `columns` (field names), without making a
    model object each: the database numbers them. JSON columns take Python values.

    For thousands of rows whose objects nobody needs afterwards (log entries, links);
    fields not named take their column's database default, not the model's.
    """
    fields = [model._meta.get_field(name) for name in columns]
    if connection.vendor != "postgresql":
        names = [f.attname for f in fields]
        model.objects.bulk_create(
            [model(**dict(zip(names, row, strict=True))) for row in rows], batch_size=BATCH_SIZE
        )
        return
    json_columns = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    if json_columns:
        rows = (_with_json(row, json_columns) for row in rows)
    copy_rows(model, fields, rows)


def _with_json(row: Sequence, json_columns: Sequence[int]) -> list:
    row = list(row)
    for i in json_columns:
        row[i] = dump_json(row[i])
    return row


def update(objects: Sequence[models.Model], fields: Sequence[str]) -> None:
    """`bulk_update(objects, fields)` in one query. On PostgreSQL each field's values go in
    as one array (`UPDATE … FROM unnest(…)`), where `bulk_update` builds and compiles a
    CASE for every object and field. Values are matched to rows by primary key."""
    if not objects:
        return
    model = type(objects[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objects, fields, batch_size=BATCH_SIZE)
        return
    columns = [model._meta.pk, *(model._meta.get_field(name) for name in fields)]
    arrays = []
    for f in columns:
        values = [getattr(obj, f.attname) for obj in objects]
        if isinstance(f, models.JSONField):
            values = [None if v is None else dump_json(v) for v in values]
        arrays.append(values)
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    assignments = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in columns[1:])
    unnest = ", ".join(f"%s::{f.db_type(connection)}[]" for f in columns)
    names = ", ".join(quote(f.column) for f in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS t SET {assignments} FROM unnest({unnest}) AS v({names}) "
            f"WHERE t.{pk} = v.{pk}",
            arrays,
        )


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """Take `count` ids from the table's sequence, so rows can be copied with their ids."""
    if not count:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return [pk for (pk,) in cursor.fetchall()]


def copy_rows(
    model: type[models.Model], fields: Sequence[models.Field], rows: Iterable[Sequence]
) -> None:
    """PostgreSQL's COPY: the fastest way in, with no SQL to build or parse per row."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
