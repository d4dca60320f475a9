"""Keyset pagination behind the queues: every row once, in order, both ways, NULLs included."""

import base64
import datetime as dt
import json

import pytest
from django.utils import timezone

from incidents import selectors
from incidents.models import Alert, Incident
from incidents.pagination import Key, decode_cursor, encode_cursor, keyset_page
from tests.factories import EntityFactory, IncidentFactory, incident_with_alerts

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


# --- tampered cursors: ignored, the first page shown, never a 500 --------------------------

NOT_A_KEY = [  # Fits no sort key: neither a time, a whole number the database holds, nor text.
    {"a": 1},
    [1, [2]],
    1.5,
    1e400,
    True,
    2**63,
    -(2**63) - 1,
    10**100,
    "text with a \u0000 NUL",
    "\ud800",
]
NOT_A_TIME = [
    "2024-13-45T00:00:00+00:00",
    "2024-01-01T00:00:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "2024-01-01T00:00:00+99:00",
    "yesterday",
    "",
]


def raw_cursor(data) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def shapes(values: list) -> list:
    """Cursors of one, two and three keys that carry `values` where the keys should be."""
    return [s for v in values for s in (["n", [v]], ["p", [v, v]], ["n", [1, v]], ["p", [v, 1, v]])]


NOT_OURS = [
    *(
        raw_cursor(data)
        for data in [["n", []], ["x", [1, 2]], ["n", {"a": 1}], {"n": [1]}, None, "n", [["n"], [1]]]
    ),
    "!!!",
    "%00",
    "a",
    base64.urlsafe_b64encode(b"\xff\xfe\x00").decode(),
    base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode(),
    "W" * 5000,
]
TAMPERED = [*(raw_cursor(data) for data in shapes(NOT_A_KEY)), *NOT_OURS]
# Well-formed, but of the wrong type for some sorts.
WRONG_TYPES = [raw_cursor(data) for data in shapes([*NOT_A_TIME, "x", 0, None])]
SORTS = [
    (selector, f"{d}{s}")
    for selector, sorts in [
        (selectors.incident_page, selectors.INCIDENT_SORTS),
        (selectors.alert_page, selectors.ALERT_SORTS),
    ]
    for s in sorts
    for d in ("", "-")
]


@pytest.fixture
def world(workspace, responder):
    incident = incident_with_alerts(3, workspace=workspace)
    incident_with_alerts(2, workspace=workspace)
    host = EntityFactory(workspace=workspace)
    host.alerts.add(*incident.relations.values_list("alert_id", flat=True))
    return incident, host


def pks(page) -> list[int]:
    return [row.pk for row in page.rows]


@pytest.mark.parametrize(("selector", "sort"), SORTS, ids=[f"{f.__name__}:{s}" for f, s in SORTS])
def test_every_sort_of_the_queues_ignores_a_tampered_cursor(world, selector, sort):
    rows = (Incident if selector is selectors.incident_page else Alert).objects.all()
    first = pks(selector(rows, sort, None))
    for cursor in TAMPERED:
        assert pks(selector(rows, sort, cursor)) == first, cursor
    for cursor in WRONG_TYPES:
        selector(rows, sort, cursor)  # Ignored, or a page after a value of the key's type.


def test_the_activity_and_the_entity_timeline_ignore_a_tampered_cursor(world):
    incident, host = world
    pages = [
        lambda cursor: selectors.activity_page(incident, cursor),
        lambda cursor: selectors.entity_timeline(host, incident, cursor),
    ]
    for page in pages:
        first = pks(page(None))
        for cursor in TAMPERED:
            assert pks(page(cursor)) == first, cursor
        for cursor in WRONG_TYPES:
            page(cursor)


def test_a_cursor_of_another_sort_is_ignored(incidents):
    queryset = Incident.objects.all()
    title_cursor = keyset_page(queryset, [Key("title", False), Key("number", False)], None, 2)
    keys = [Key(k.name, k.descending, k.nullable) for k in KEYS]

    page = keyset_page(queryset, keys, title_cursor.next_cursor, 2)

    assert page.rows == keyset_page(queryset, keys, None, 2).rows
    assert page.previous_cursor is None


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_every_paginated_page_and_fragment_shows_its_first_page_for_a_tampered_cursor(
    client, responder, world, htmx
):
    incident, host = world
    pages = [
        ("/incidents/", {}, "page"),
        ("/incidents/", {"sort": "title"}, "page"),
        ("/alerts/", {}, "page"),
        ("/alerts/", {"sort": "-severity"}, "page"),
        (f"/incidents/{incident.number}/activity/", {}, "page"),
        (f"/incidents/{incident.number}/entities/{host.pk}/", {}, "timeline"),
    ]
    cursors = [
        raw_cursor(["n", ["2024-13-45T00:00:00+00:00", 1]]),
        raw_cursor(["n", [None, None]]),
        raw_cursor(["p", [{"a": 1}, [2]]]),
        raw_cursor(["n", [10**30, "x"]]),
        raw_cursor(["n", ["x\u0000", 1]]),
        "!!!",
    ]
    client.force_login(responder)
    headers = {"HX-Request": "true"} if htmx else {}
    for url, query, name in pages:
        first = pks(client.get(url, query, headers=headers).context[name])
        for cursor in cursors:
            response = client.get(url, {**query, "cursor": cursor}, headers=headers)
            assert response.status_code == 200, (url, cursor)
            assert pks(response.context[name]) == first, (url, cursor)
