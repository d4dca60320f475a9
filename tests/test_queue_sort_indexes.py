"""On PostgreSQL, each sort of the queues reads its page in order from an index (#14):
the planner is told not to sort, and the page's own query must still find an index that
gives its order."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents import selectors
from incidents.models import Alert, Incident

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


@pytest.mark.parametrize(
    ("query", "index"),
    [
        ({"product": "Microsoft Defender for IoT"}, "incident_products_gin_idx"),
        ({"tactic": "Exfiltration"}, "incident_tactics_gin_idx"),
    ],
)
def test_a_rare_product_or_tactic_is_found_through_its_index(workspace, reader, query, index):
    from django.test import RequestFactory

    from incidents.filters import IncidentFilter
    from incidents.models import Membership
    from tests.factories import IncidentFactory, alert_in

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
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_incident")
    request = RequestFactory().get("/incidents/", {**query, "status": ""})
    request.membership = Membership.objects.get(workspace=workspace, user=reader)
    incidents = Incident.objects.filter(workspace=workspace)
    filtered = IncidentFilter(request.GET, queryset=incidents, request=request).qs
    with CaptureQueriesContext(connection) as queries:
        selectors.incident_page(filtered, "", None)
    sql = next(q["sql"] for q in queries if "@>" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan
