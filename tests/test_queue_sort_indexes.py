"""On PostgreSQL, each sort of the queues reads its page in order from an index (#14):
the planner is told not to sort, and the page's own query must still find an index that
gives its order."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents import selectors
from incidents.models import Alert, Incident

pytestmark = pytest.mark.postgres


def plan_of(run) -> str:
    with CaptureQueriesContext(connection) as queries:
        run()
    sql = queries[0]["sql"]
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
