"""Keyset pagination behind the queues: every row once, in order, both ways, NULLs included."""

import datetime as dt

import pytest
from django.utils import timezone

from incidents.models import Incident
from incidents.pagination import Key, decode_cursor, encode_cursor, keyset_page
from tests.factories import IncidentFactory

KEYS = [Key("last_activity_time", descending=True, nullable=True), Key("number", descending=True)]


@pytest.fixture
def incidents(workspace):
    start = timezone.now()
    made = [IncidentFactory(workspace=workspace) for _ in range(4)]  # No activity yet: NULL.
    made += [
        IncidentFactory(workspace=workspace, last_activity_time=start - dt.timedelta(hours=i // 3))
        for i in range(20)
    ]
    return made


def walk(keys: list[Key], size: int) -> tuple[list[int], list[list[int]]]:
    """Every page forward from the start, then every page back from the end."""
    queryset = Incident.objects.all()
    pages, cursor = [], None
    while True:
        page = keyset_page(queryset, keys, cursor, size)
        pages.append([i.number for i in page.rows])
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    back = []
    while page.previous_cursor:
        page = keyset_page(queryset, keys, page.previous_cursor, size)
        back.append([i.number for i in page.rows])
    return [n for p in pages for n in p], [pages, back]


def expected(incidents, descending: bool) -> list[int]:
    def key(incident):
        # NULL sorts as the largest value.
        missing = incident.last_activity_time is None
        return (missing, incident.last_activity_time or timezone.now(), incident.number)

    return [i.number for i in sorted(incidents, key=key, reverse=descending)]


@pytest.mark.parametrize("size", [1, 5, 7, 50])
@pytest.mark.parametrize("descending", [True, False])
def test_paging_visits_every_row_once_in_order(incidents, size, descending):
    keys = [Key(k.name, descending, k.nullable) for k in KEYS]
    seen, (forward, back) = walk(keys, size)
    assert seen == expected(incidents, descending)
    # Paging back from the last page shows the same pages, in reverse.
    assert back == forward[:-1][::-1]


def test_a_cursor_survives_the_query_string_and_nonsense_is_refused():
    now = timezone.now()
    direction, values = decode_cursor(encode_cursor("n", [now, 12, None]), 3)
    assert direction == "n"
    assert values == [now.isoformat(), 12, None]
    assert decode_cursor(encode_cursor("n", [1]), 2) is None
    assert decode_cursor(encode_cursor("x", [1]), 1) is None
    assert decode_cursor("!!!", 1) is None
