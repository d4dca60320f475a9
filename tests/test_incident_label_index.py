"""The incidents queue's label filter on PostgreSQL can find its incidents through the
trigram index of labels (migration 0017) instead of reading every incident (#14)."""

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from incidents import selectors
from incidents.filters import IncidentFilter
from incidents.models import Incident, Membership

pytestmark = pytest.mark.postgres


def test_a_rare_label_is_found_through_the_trigram_index(workspace, reader):
    Incident.objects.bulk_create(
        Incident(
            workspace=workspace,
            number=n + 1,
            title=f"Incident {n}",
            labels=[["Phishing", "Triage"], ["Brute force"], []][n % 3],
        )
        for n in range(10_000)
    )
    with connection.cursor() as cursor:
        # What autovacuum would do: the new rows move from GIN's pending list into the index.
        cursor.execute("SELECT gin_clean_pending_list('incident_labels_trgm_idx')")
        cursor.execute("ANALYZE incidents_incident")
    request = RequestFactory().get("/incidents/", {"label": "Merged", "status": ""})
    request.membership = Membership.objects.get(workspace=workspace, user=reader)
    incidents = Incident.objects.filter(workspace=workspace)
    filtered = IncidentFilter(request.GET, queryset=incidents, request=request).qs
    with CaptureQueriesContext(connection) as queries:
        selectors.incident_page(filtered, "", None)
    sql = next(q["sql"] for q in queries if "LIKE" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "incident_labels_trgm_idx" in plan, plan
