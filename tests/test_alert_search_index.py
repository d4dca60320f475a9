"""The alerts queue's search on PostgreSQL: among a workspace's few hundred alert names
first, then their alerts through the name index; past that many names, a rare word
through the trigram index of alert names (migration 0011), never by walking every alert
of the queue (#14)."""

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents import facets, selectors
from incidents.filters import AlertFilter
from incidents.models import Alert, Membership

pytestmark = pytest.mark.postgres

WORDS = ["brute", "force", "sign-in", "powershell", "phishing", "mailbox", "token", "login"]


def queries_of(workspace, reader, q: str) -> list[str]:
    """The SQL of the alerts queue's page and count for the search `q`, as the view runs them."""
    request = RequestFactory().get("/alerts/", {"q": q})
    request.membership = Membership.objects.get(workspace=workspace, user=reader)
    alerts = Alert.objects.filter(workspace=workspace)
    filterset = AlertFilter(request.GET, queryset=alerts, request=request)
    with CaptureQueriesContext(connection) as queries:
        selectors.alert_page(filterset.qs, "", None)
        facets.count_matching(filterset.qs, ordered=filterset.count_in_order)
    return [q["sql"] for q in queries]


def test_a_word_of_a_rules_name_is_counted_from_the_name_index(workspace, reader):
    now = timezone.now()
    Alert.objects.bulk_create(
        # Fifty rules' names, 400 alerts each.
        Alert(workspace=workspace, display_name=f"Rule-{n % 50:02d}X detected", time_generated=now)
        for n in range(20_000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_alert")
    sql = queries_of(workspace, reader, "rule-07x")
    assert not any("LIKE" in s for s in sql)
    (count,) = [s for s in sql if s.startswith("SELECT COUNT(*)")]
    assert "ORDER BY" not in count
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {count}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "on alert_name_id_idx" in plan, plan


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
