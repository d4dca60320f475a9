"""OData-style query options: `$top`, `$skipToken` (keyset cursors), `$orderby`, `$filter`."""

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django.db.models import Model, Q, QuerySet
from rest_framework.request import Request

from incidents.api.errors import bad_request
from incidents.pagination import cursor_value

DEFAULT_TOP = 50
MAX_TOP = 1000


@dataclass(frozen=True)
class Ordering:
    """An `$orderby` value mapped onto model fields; the last field must be unique."""

    fields: tuple[str, ...]
    descending: bool


def parse_top(request: Request) -> int:
    raw = request.query_params.get("$top")
    if raw is None:
        return DEFAULT_TOP
    try:
        # isdigit() is true of "²" too, which int() refuses, as it refuses 5,000 digits.
        top = int(raw) if raw.isascii() and raw.isdigit() else 0
    except ValueError:
        top = 0
    if not 1 <= top <= MAX_TOP:
        raise bad_request(f"$top must be a whole number from 1 to {MAX_TOP}; got '{raw}'.")
    return top


def parse_orderby(
    request: Request, choices: dict[str, tuple[str, ...]], default: Ordering
) -> Ordering:
    raw = " ".join(request.query_params.get("$orderby", "").split())
    if not raw:
        return default
    name, _, direction = raw.partition(" ")
    direction = direction.lower() or "asc"
    if name not in choices or direction not in ("asc", "desc"):
        allowed = ", ".join(f"'{c} asc', '{c} desc'" for c in choices)
        raise bad_request(f"$orderby '{raw}' is not supported. Use one of: {allowed}.")
    return Ordering(choices[name], direction == "desc")


FILTER_TERM = re.compile(r"^\s*([\w/]+)\s+eq\s+'((?:[^']|'')*)'\s*$", re.IGNORECASE)


def parse_filter(request: Request, properties: tuple[str, ...]) -> dict[str, str]:
    """A conjunction of `property eq 'value'` terms: {property: value}, for known properties."""
    raw = request.query_params.get("$filter", "").strip()
    if not raw:
        return {}
    lookups = {}
    for term in re.split(r"\s+and\s+", raw, flags=re.IGNORECASE):
        match = FILTER_TERM.match(term)
        if not match or match.group(1) not in properties:
            supported = ", ".join(f"{p} eq '…'" for p in properties)
            raise bad_request(
                f"$filter '{raw}' is not supported. Use {supported} (joined with 'and')."
            )
        lookups[match.group(1)] = match.group(2).replace("''", "'")
    return lookups


def _encode(values: list) -> str:
    data = json.dumps([v.isoformat() if isinstance(v, datetime) else v for v in values])
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def _decode(token: str, model: type[Model], fields: tuple[str, ...]) -> list:
    try:
        padded = token + "=" * (-len(token) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != len(fields):
            raise ValueError
        return [
            cursor_value(v, model._meta.get_field(f)) for f, v in zip(fields, values, strict=True)
        ]
    except (ValueError, TypeError, RecursionError, binascii.Error) as error:
        raise bad_request(
            "$skipToken is not valid: use the nextLink of a previous page as it is."
        ) from error


def keyset_page(
    request: Request, queryset: QuerySet, ordering: Ordering, top: int
) -> tuple[list, str | None]:
    """One page after the `$skipToken` cursor, and the cursor of the next page (or None)."""
    fields = ordering.fields
    token = request.query_params.get("$skipToken")
    if token:
        values = _decode(token, queryset.model, fields)
        op = "lt" if ordering.descending else "gt"
        after = Q()
        for i, field in enumerate(fields):
            term = Q(**{f"{field}__{op}": values[i]})
            for earlier, value in zip(fields[:i], values[:i], strict=True):
                term &= Q(**{earlier: value})
            after |= term
        queryset = queryset.filter(after)
    prefix = "-" if ordering.descending else ""
    rows = list(queryset.order_by(*(prefix + f for f in fields))[: top + 1])
    if len(rows) <= top:
        return rows, None
    last = rows[top - 1]
    return rows[:top], _encode([getattr(last, f) for f in fields])


def next_link(request: Request, token: str | None) -> str | None:
    if token is None:
        return None
    params = {k: v for k, v in request.query_params.items() if k != "$skipToken"}
    params["$skipToken"] = token
    return request.build_absolute_uri(request.path) + "?" + urlencode(params)
