"""What the queues' filters offer and report: the values present in a workspace (its
providers, products) and how many rows match.

Both stay cheap however many alerts there are: values are found by walking an index
from one value to the next, and counts are exact only while they are small.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, models
from django.db.models import Q, QuerySet

from incidents.models import Workspace

# More values than this make a choice list nobody reads; the free-text filter still works.
MAX_VALUES = 500
# Counted exactly up to this many; past it, PostgreSQL's planner estimates.
EXACT_UP_TO = 1000


def present_values(
    workspace: Workspace, fields: Sequence[tuple[type[models.Model], str]]
) -> list[list[str]]:
    """For each (model, field), the distinct non-empty values in the workspace's rows, in
    order, in one query (`values_query`)."""
    found: list[list[str]] = [[] for _ in fields]
    with connection.cursor() as cursor:
        cursor.execute(*values_query(workspace, fields))
        for i, value, _ in cursor.fetchall():
            found[i].append(value)
    return found


def values_query(
    workspace: Workspace, fields: Sequence[tuple[type[models.Model], str]]
) -> tuple[str, list]:
    """The SQL of `present_values`. Each field needs an index on (workspace, field): every
    value is found from the one before by one step in that index (a loose index scan), so
    the cost grows with the number of values, not of rows — never a SELECT DISTINCT over
    every alert."""
    quote = connection.ops.quote_name
    ctes, selects, params = [], [], []
    for i, (model, name) in enumerate(fields):
        table = quote(model._meta.db_table)
        column = quote(model._meta.get_field(name).column)
        where = f"{quote(model._meta.get_field('workspace').column)} = %s"

        def after(bound: str, table=table, column=column, where=where) -> str:
            return (
                f"(SELECT {column} FROM {table} WHERE {where} AND {column} > {bound} "
                f"ORDER BY {column} LIMIT 1)"
            )

        ctes.append(
            f"v{i}(value, n) AS (SELECT {after("''")}, 1 UNION ALL "
            f"SELECT {after(f'v{i}.value')}, v{i}.n + 1 FROM v{i} "
            f"WHERE v{i}.value IS NOT NULL AND v{i}.n < %s)"
        )
        params += [workspace.pk, workspace.pk, MAX_VALUES]
        selects.append(f"SELECT {i}, value, n FROM v{i} WHERE value IS NOT NULL")
    sql = f"WITH RECURSIVE {', '.join(ctes)} {' UNION ALL '.join(selects)} ORDER BY 1, 3"
    return sql, params


def matching(text: str, values: Sequence[str]) -> list[str]:
    """The values `text` names: the one it spells (in any case), else those containing it."""
    folded = text.strip().casefold()
    exact = [v for v in values if v.casefold() == folded]
    return exact or [v for v in values if folded in v.casefold()]


def has_item(field: str, value: str, *, any_case: bool = False) -> Q:
    """Rows whose JSON list `field` of strings holds `value` (a tactic), or with `any_case`
    a string equal to it but for case (a label)."""
    postgresql = connection.vendor == "postgresql"
    if postgresql and not any_case:
        return Q(**{f"{field}__contains": [value]})
    # The item as the list's JSON text spells it, quotes included (SQLite stores JSON with
    # non-ASCII escaped; PostgreSQL's jsonb prints it as is), found in that text.
    return Q(**{f"{field}__icontains": json.dumps(value, ensure_ascii=not postgresql)})


@dataclass(frozen=True)
class Total:
    """How many rows match: `value`, exactly or (`exact` False) about that many."""

    value: int
    exact: bool

    @property
    def rounded(self) -> int:
        """An estimate to two significant figures: "about 12,000", not "about 12,043"."""
        if self.exact or self.value < 100:
            return self.value
        step = 10 ** (len(str(self.value)) - 2)
        return round(self.value / step) * step


def count_matching(queryset: QuerySet, *, ordered: bool = True) -> Total:
    """Exact up to `EXACT_UP_TO` (one query that stops there); past it, PostgreSQL's
    planner estimate (one EXPLAIN). SQLite, a single-user database, counts exactly.

    The stopping count keeps the list's own order (the model's, newest first), so it reads
    the rows the list reads: unordered, the planner may walk another index (alert names
    in name order) that holds a common word's matches all in one stretch far along it.
    Not `ordered` when no filter tests text that way: the count then reads the index that
    holds the rows (a product's alerts from the product index), not the list's order.
    """
    if connection.vendor != "postgresql":
        return Total(queryset.order_by().count(), exact=True)
    found = (queryset if ordered else queryset.order_by())[: EXACT_UP_TO + 1].count()
    queryset = queryset.order_by()
    if found <= EXACT_UP_TO:
        return Total(found, exact=True)
    sql, params = queryset.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return Total(max(int(plan[0]["Plan"]["Plan Rows"]), found), exact=False)
