"""Keyset pagination: pages of a sorted queryset without COUNT(*) or OFFSET.

A page is fetched with one query of `size + 1` rows after (or before) the row a cursor
names, so its cost does not grow with the table or with how deep the user pages. The
cursor is the sort keys of that row, base64-encoded JSON, carried in the query string;
one that does not hold values of the sort's types (tampered, or from another sort) is
ignored, and the first page is shown.
NULL sorts as the largest value (PostgreSQL's default), so a descending key puts NULLs
first and the database can walk the same index both ways.
"""

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import (
    CharField,
    DateTimeField,
    F,
    Field,
    IntegerField,
    Model,
    Q,
    QuerySet,
    TextField,
)
from django.db.models.expressions import OrderBy
from django.utils import timezone
from django.utils.dateparse import parse_datetime

FORWARD = "n"
BACKWARD = "p"


@dataclass(frozen=True)
class Key:
    """One sort key: a field or annotation name, its direction, and whether it may be NULL."""

    name: str
    descending: bool
    nullable: bool = False

    def order(self, reverse: bool = False) -> OrderBy:
        descending = self.descending != reverse
        if descending:
            return F(self.name).desc(nulls_first=True) if self.nullable else F(self.name).desc()
        return F(self.name).asc(nulls_last=True) if self.nullable else F(self.name).asc()

    def after(self, value: Any, reverse: bool = False) -> Q:
        """Rows strictly after `value` in this key's order (or before it when `reverse`)."""
        descending = self.descending != reverse
        if value is None:
            # NULL is the largest value: only in descending order does anything follow it.
            return Q(**{f"{self.name}__isnull": False}) if descending else Q(pk__in=[])
        lookup = "lt" if descending else "gt"
        found = Q(**{f"{self.name}__{lookup}": value})
        return (
            found | Q(**{f"{self.name}__isnull": True})
            if self.nullable and not descending
            else found
        )

    def equal(self, value: Any) -> Q:
        if value is None:
            return Q(**{f"{self.name}__isnull": True})
        return Q(**{self.name: value})


@dataclass
class Page:
    rows: list[Model]
    next_cursor: str | None
    previous_cursor: str | None


def encode_cursor(direction: str, values: list[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, dt.datetime) else v for v in values]
    raw = json.dumps([direction, plain], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> tuple[str, list[Any]] | None:
    """(direction, values), or None for a cursor that is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        direction, values = json.loads(raw)
    except (ValueError, TypeError, RecursionError, binascii.Error):
        return None
    if direction not in (FORWARD, BACKWARD) or not isinstance(values, list):
        return None
    if len(values) != size or not all(isinstance(v, str | int | None) for v in values):
        return None
    return direction, values


BIGINT = range(-(2**63), 2**63)


def _key_field(queryset: QuerySet, name: str) -> Field:
    if name in queryset.query.annotations:
        return queryset.query.annotations[name].output_field
    field = queryset.model._meta.get_field(name)
    # A generated column holds what its expression gives (the severity rank: a number).
    return field.output_field if field.generated else field


def cursor_value(value: Any, field: Field, nullable: bool = False) -> Any:
    """`value` as `field` holds it; ValueError when a cursor could not have carried it."""
    if value is None:
        if nullable:
            return None
        raise ValueError("NULL in a key that is never NULL")
    if isinstance(field, DateTimeField):
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is None or timezone.is_naive(parsed):
            raise ValueError("not an ISO 8601 time with its offset")
        try:
            # The database is given UTC: year 1 at +14:00 does not exist there.
            return parsed.astimezone(dt.UTC)
        except OverflowError:
            raise ValueError("a time out of range") from None
    if isinstance(field, IntegerField):
        if type(value) is not int or value not in BIGINT:
            raise ValueError("not a whole number the database holds")
        return value
    if isinstance(field, CharField | TextField):
        # NUL and lone surrogates (JSON's "\ud800") cannot be sent to the database.
        if not isinstance(value, str) or "\x00" in value:
            raise ValueError("not text the database holds")
        value.encode()
        return value
    try:
        # A key of another type: what its field accepts, so paging by it still works.
        return field.to_python(value)
    except (ValidationError, TypeError, OverflowError) as error:
        raise ValueError(f"not a {type(field).__name__} value") from error


def typed_cursor(cursor: str, keys: list[Key], queryset: QuerySet) -> tuple[str, list[Any]] | None:
    """(direction, values) with each value of its key's type, or None for a cursor that
    does not fit the sort in use: tampered, or from another sort."""
    decoded = decode_cursor(cursor, len(keys))
    if decoded is None:
        return None
    direction, values = decoded
    try:
        fields = [_key_field(queryset, k.name) for k in keys]
        return direction, [
            cursor_value(v, f, k.nullable) for v, f, k in zip(values, fields, keys, strict=True)
        ]
    except ValueError:
        return None


def _beyond(keys: list[Key], values: list[Any], reverse: bool) -> Q:
    """Rows after the cursor row in lexicographic order of `keys`."""
    condition = Q(pk__in=[])
    prefix = Q()
    for key, value in zip(keys, values, strict=True):
        condition |= prefix & key.after(value, reverse)
        prefix &= key.equal(value)
    first, value = keys[0], values[0]
    if value is not None and first.descending != reverse:
        # A plain range bound on the leading key lets the database seek in its index.
        condition &= Q(**{f"{first.name}__lte": value})
    return condition


def keyset_page(
    queryset: QuerySet,
    keys: list[Key],
    cursor: str | None,
    size: int,
    parts: list[QuerySet] | None = None,
) -> Page:
    """The page of `queryset` (ordered by `keys`, the last one unique) that `cursor` names.

    `parts`: the same rows split in querysets that each read an index in the keys' order
    (the incidents of one owner, sorted by owner). Each part gives its first rows and the
    database merges them, where one query would sort every row to find the first few.
    """
    decoded = typed_cursor(cursor, keys, queryset) if cursor else None
    parts = parts or [queryset]
    if decoded and decoded[0] == BACKWARD:
        rows = _first(parts, _beyond(keys, decoded[1], reverse=True), keys, size + 1, True)
        if len(rows) > size:
            rows = rows[:size][::-1]
            return Page(rows, _cursor(FORWARD, keys, rows[-1]), _cursor(BACKWARD, keys, rows[0]))
        decoded = None  # Back at the start: show a full first page.
    after = _beyond(keys, decoded[1], reverse=False) if decoded else Q()
    rows = _first(parts, after, keys, size + 1, False)
    more = len(rows) > size
    rows = rows[:size]
    return Page(
        rows,
        _cursor(FORWARD, keys, rows[-1]) if more else None,
        _cursor(BACKWARD, keys, rows[0]) if decoded and rows else None,
    )


def _first(parts: list[QuerySet], after: Q, keys: list[Key], n: int, reverse: bool) -> list:
    """The first `n` rows of the parts together that come `after` the cursor."""
    order = [k.order(reverse) for k in keys]
    firsts = [part.filter(after).order_by(*order)[:n] for part in parts]
    if len(firsts) == 1:
        return list(firsts[0])
    return list(firsts[0].union(*firsts[1:], all=True).order_by(*order)[:n])


def _cursor(direction: str, keys: list[Key], row: Model) -> str:
    return encode_cursor(direction, [getattr(row, k.name) for k in keys])
