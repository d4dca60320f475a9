"""On PostgreSQL, each sort of the queues reads its page in order from an index (#14):
the planner is told not to sort, and the page's own query must still find an index that
gives its order. And a filter on a rare product or tactic finds its rows through an index
instead of walking the queue."""

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents import selectors
from incidents.filters import AlertFilter, IncidentFilter
from incidents.models import Alert, Incident, Membership
from tests.factories import IncidentFactory, alert_in

pytestmark = pytest.mark.postgres


def plan_of(run, containing: str = "") -> str:
    """The plan of the first query `run` makes (that contains `containing`)."""
    with CaptureQueriesContext(connection) as queries:
        run()
    sql = next(q["sql"] for q in queries if containing in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(
    ("sort", "index"),
    [
        ("name", "alert_name_id_idx"),
        ("-name", "alert_name_id_idx"),
        ("product", "alert_product_id_idx"),
        ("-severity", "alert_severity_rank_idx"),
        ("severity", "alert_severity_rank_idx"),
    ],
)
def test_alert_sorts_read_an_index_in_order(workspace, sort, index):
    alerts = Alert.objects.filter(workspace=workspace)
    plan = plan_of(lambda: selectors.alert_page(alerts, sort, None))
    assert index in plan, plan
    assert "Sort" not in plan, plan


@pytest.mark.parametrize(
    ("sort", "index"),
    [
        ("title", "incident_title_idx"),
        ("-alerts", "incident_alert_count_idx"),
        ("-severity", "incident_severity_rank_idx"),
    ],
)
def test_incident_sorts_read_an_index_in_order(workspace, sort, index):
    incidents = Incident.objects.filter(workspace=workspace)
    plan = plan_of(lambda: selectors.incident_page(incidents, sort, None))
    assert index in plan, plan
    assert "Sort" not in plan, plan


@pytest.mark.parametrize("sort", ["owner", "-owner"])
def test_the_owner_sort_merges_each_owners_incidents_read_in_order(workspace, sort, monkeypatch):
    from django.db.models import F

    from incidents.pagination import keyset_page
    from tests.factories import IncidentFactory, UserFactory

    monkeypatch.setattr(selectors, "PAGE_SIZE", 4)
    # Names out of their ids' order, so an order by id would show.
    owners = [None, *(UserFactory(username=name) for name in ["carol", "alice", "bob"])]
    for i in range(17):
        IncidentFactory(workspace=workspace, owner=owners[i % 4])
    incidents = Incident.objects.filter(workspace=workspace)
    column = selectors.INCIDENT_SORTS["owner"]
    keys = column.keys(sort.startswith("-"), "number")
    expected = [
        i.number
        for i in keyset_page(
            incidents.annotate(owner_name=F("owner__username")), keys, None, 100
        ).rows
    ]

    forward, pages, cursor = [], [], None
    while True:
        page = selectors.incident_page(incidents, sort, cursor)
        pages.append(page)
        forward += [i.number for i in page.rows]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert forward == expected
    assert [i.owner for i in pages[0].rows] == [
        Incident.objects.get(number=n).owner for n in forward[:4]
    ]
    # Back from the last page, one page at a time, shows the same pages.
    backward, page = [], pages[-1]
    while page.previous_cursor:
        page = selectors.incident_page(incidents, sort, page.previous_cursor)
        backward = [i.number for i in page.rows] + backward
    assert backward == forward[: -len(pages[-1].rows)]

    plan = plan_of(lambda: selectors.incident_page(incidents, sort, None), "UNION ALL")
    # The three owners' and the unassigned incidents, each read in number order from an
    # index (the unassigned may be read from the numbers'); only their first rows sorted.
    assert plan.count("incident_owner_number_idx") >= 3, plan
    assert plan.count("Index Scan") == 4, plan
    assert plan.count("Sort Key") == 1, plan


def filtered_page_plan(reader, workspace, queue: str, query: dict) -> str:
    """The plan of the queue's first page (its query with `@>`) filtered by `query`, as
    the planner chooses it on its own."""
    filterset, model, page = {
        "incidents": (IncidentFilter, Incident, selectors.incident_page),
        "alerts": (AlertFilter, Alert, selectors.alert_page),
    }[queue]
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {model._meta.db_table}")
    request = RequestFactory().get(f"/{queue}/", query)
    request.membership = Membership.objects.get(workspace=workspace, user=reader)
    rows = model.objects.filter(workspace=workspace)
    with CaptureQueriesContext(connection) as queries:
        page(filterset(request.GET, queryset=rows, request=request).qs, "", None)
    sql = next(q["sql"] for q in queries if "@>" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(
    ("query", "index"),
    [
        ({"product": "Microsoft Defender for IoT"}, "incident_products_gin_idx"),
        ({"tactic": "Exfiltration"}, "incident_tactics_gin_idx"),
    ],
)
def test_a_rare_product_or_tactic_is_found_through_its_index(workspace, reader, query, index):
    # Many incidents; one with the rare value (migration 0019), from its alert.
    Incident.objects.bulk_create(
        Incident(workspace=workspace, number=n, title=f"Noise {n}", products=["Sentinel"])
        for n in range(1000, 6000)
    )
    alert_in(
        IncidentFactory(workspace=workspace),
        product_name="Microsoft Defender for IoT",
        tactics=["Exfiltration"],
    )
    plan = filtered_page_plan(reader, workspace, "incidents", {**query, "status": ""})
    assert index in plan, plan


def test_a_tactic_no_alert_has_is_found_through_the_alerts_tactics_index(workspace, reader):
    now = timezone.now()
    Alert.objects.bulk_create(
        Alert(
            workspace=workspace,
            display_name=f"Noise {n}",
            tactics=["Discovery"],
            time_generated=now,
        )
        for n in range(5000)
    )
    plan = filtered_page_plan(reader, workspace, "alerts", {"tactic": "ImpairProcessControl"})
    assert "alert_tactics_gin_idx" in plan, plan
