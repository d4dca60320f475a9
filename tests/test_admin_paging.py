"""The admin's big changelists count an unfiltered table from PostgreSQL's statistics."""

import pytest
from django.db import connection

from incidents.admin import EstimatedCountPaginator
from incidents.models import Incident
from tests.factories import IncidentFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def analysed(workspace, monkeypatch):
    IncidentFactory.create_batch(6, workspace=workspace)
    IncidentFactory.create_batch(2, workspace=workspace, severity="High")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_incident")
        # Pretend the table is big, so the estimate is used.
        cursor.execute(
            "UPDATE pg_class SET reltuples = 123456 WHERE oid = 'incidents_incident'::regclass"
        )
    monkeypatch.setattr(EstimatedCountPaginator, "EXACT_BELOW", 1000)


def test_an_unfiltered_big_table_is_counted_from_statistics(analysed):
    assert EstimatedCountPaginator(Incident.objects.order_by("pk"), 100).count == 123456


def test_a_filtered_queryset_is_counted_exactly(analysed):
    high = Incident.objects.filter(severity="High").order_by("pk")

    assert EstimatedCountPaginator(high, 100).count == 2


def test_a_small_table_is_counted_exactly(analysed, monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "EXACT_BELOW", 10**9)

    assert EstimatedCountPaginator(Incident.objects.order_by("pk"), 100).count == 8
