"""The alerts queue's search on PostgreSQL finds a rare word through the trigram index of
alert names (migration 0011) instead of walking every alert of the queue (#14)."""

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents import selectors
from incidents.filters import AlertFilter
from incidents.models import Alert, Membership

pytestmark = pytest.mark.postgres

WORDS = ["brute", "force", "sign-in", "powershell", "phishing", "mailbox", "token", "login"]


def page_sql(workspace, reader, q: str) -> str:
    """The SQL of the alerts queue's first page for the search `q`, as the page runs it."""
    request = RequestFactory().get("/alerts/", {"q": q})
    request.membership = Membership.objects.get(workspace=workspace, user=reader)
    alerts = Alert.objects.filter(workspace=workspace)
    filtered = AlertFilter(request.GET, queryset=alerts, request=request).qs
    with CaptureQueriesContext(connection) as queries:
        selectors.alert_page(filtered, "", None)
    return next(q["sql"] for q in queries if "LIKE" in q["sql"])


def test_a_rare_word_is_searched_through_the_trigram_index(workspace, reader):
    now = timezone.now()
    Alert.objects.bulk_create(
        Alert(
            workspace=workspace,
            display_name=f"{WORDS[n % 8]} {WORDS[(n // 8) % 8]} attempt {n}",
            time_generated=now,
        )
        for n in range(20_000)
    )
    with connection.cursor() as cursor:
        # What autovacuum would do: the new rows move from GIN's pending list into the index.
        cursor.execute("SELECT gin_clean_pending_list('alert_name_trgm_idx')")
        cursor.execute("ANALYZE incidents_alert")
        cursor.execute(f"EXPLAIN {page_sql(workspace, reader, 'zebra')}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Bitmap Index Scan on alert_name_trgm_idx" in plan, plan
