"""The admin's big changelists stay fast on millions of rows (#14): the product and provider
filters list the values present by walking an index, never a SELECT DISTINCT over the
table; facet counts are never offered; a changelist's queries do not grow with its rows;
a count past a thousand is PostgreSQL's estimate, and the page says "about"."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents import facets
from incidents.admin import EstimatedCountPaginator, IndexedValuesFilter
from incidents.models import Alert, Incident
from tests.factories import (
    AlertFactory,
    IncidentFactory,
    UserFactory,
    WorkspaceFactory,
    alert_in,
    incident_with_alerts,
)

ENDPOINT = "Microsoft Defender for Endpoint"
SENTINEL = "Microsoft Sentinel"
ENTRA = "Microsoft Entra ID Protection"


def changelist(model: type[Alert | Incident]) -> str:
    return reverse(f"admin:incidents_{model._meta.model_name}_changelist")


def choices(response, field_path: str) -> list[tuple[str, bool]]:
    """The (label, selected) choices of the changelist filter on `field_path`."""
    cl = response.context["cl"]
    (spec,) = [s for s in cl.filter_specs if getattr(s, "field_path", None) == field_path]
    return [(c["display"], c["selected"]) for c in spec.choices(cl)]


def labels(response, field_path: str) -> list[str]:
    return [label for label, _ in choices(response, field_path)]


@pytest.fixture
def lab(db):
    return WorkspaceFactory(name="lab")


@pytest.fixture
def alerts(workspace, lab) -> dict[str, Alert]:
    """Alerts of two products in `workspace`, one without a product, one of `lab`'s."""
    return {
        "endpoint": AlertFactory(workspace=workspace, product_name=ENDPOINT, provider_name="MDATP"),
        "sentinel": AlertFactory(workspace=workspace, display_name="Rare zebra sighting"),
        "blank": AlertFactory(workspace=workspace, product_name="", provider_name=""),
        "entra": AlertFactory(workspace=lab, product_name=ENTRA, provider_name="IPC"),
    }


def test_the_product_filter_lists_the_values_of_every_workspace(admin_client, alerts):
    response = admin_client.get(changelist(Alert))

    assert labels(response, "product_name") == ["All", ENDPOINT, ENTRA, SENTINEL]
    assert labels(response, "provider_name") == ["All", "ASI Scheduled Alerts", "IPC", "MDATP"]


def test_choosing_a_workspace_lists_only_its_values(admin_client, alerts, lab):
    response = admin_client.get(changelist(Alert), {"workspace__id__exact": lab.pk})

    assert labels(response, "product_name") == ["All", ENTRA]
    assert list(response.context["cl"].result_list) == [alerts["entra"]]


def test_filtering_by_a_product_lists_its_alerts_and_marks_it_chosen(admin_client, alerts):
    response = admin_client.get(changelist(Alert), {"product_name": ENDPOINT})

    assert list(response.context["cl"].result_list) == [alerts["endpoint"]]
    assert (ENDPOINT, True) in choices(response, "product_name")


def test_a_chosen_value_past_the_listed_ones_still_shows_chosen(admin_client, alerts, monkeypatch):
    monkeypatch.setattr(IndexedValuesFilter, "MAX_CHOICES", 1)

    response = admin_client.get(changelist(Alert), {"product_name": SENTINEL})

    assert choices(response, "product_name") == [
        ("All", False),
        (ENDPOINT, False),
        (SENTINEL, True),
    ]
    assert list(response.context["cl"].result_list) == [alerts["sentinel"]]


def test_the_incident_provider_filter_lists_the_providers_present(admin_client, workspace, lab):
    IncidentFactory(workspace=workspace)
    IncidentFactory(workspace=lab, provider_name="Microsoft Defender XDR")

    response = admin_client.get(changelist(Incident))

    assert labels(response, "provider_name") == ["All", "Microsoft Defender XDR", SENTINEL]


def test_the_search_still_finds_alerts_by_a_word_of_their_name(admin_client, alerts):
    response = admin_client.get(changelist(Alert), {"q": "zebra"})

    assert list(response.context["cl"].result_list) == [alerts["sentinel"]]


@pytest.mark.parametrize("model", [Alert, Incident], ids=lambda m: m.__name__)
def test_facet_counts_are_never_offered(admin_client, alerts, model):
    response = admin_client.get(changelist(model), {"_facets": "True"})

    assert response.status_code == 200
    assert not response.context["cl"].add_facets
    assert b"Show counts" not in response.content


def queries_of(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_alerts_changelist_runs_as_many_queries_for_50_alerts_as_for_5(
    admin_client, workspace, lab
):
    for ws in (workspace, lab, workspace, lab, workspace):
        alert_in(IncidentFactory(workspace=ws), product_name=f"Product {ws.pk}")
    few = queries_of(admin_client, changelist(Alert))

    for _ in range(9):
        incident_with_alerts(5, workspace=workspace)

    assert Alert.objects.count() == 50
    assert queries_of(admin_client, changelist(Alert)) == few


def test_the_incidents_changelist_runs_as_many_queries_for_50_incidents_as_for_5(
    admin_client, workspace, lab
):
    for n in range(5):
        IncidentFactory(workspace=(workspace, lab)[n % 2], owner=UserFactory())
    few = queries_of(admin_client, changelist(Incident))

    for _ in range(45):
        IncidentFactory(workspace=workspace, owner=UserFactory(), provider_name="Elsewhere")

    assert queries_of(admin_client, changelist(Incident)) == few


# --- PostgreSQL: the plans ----------------------------------------------------------


def captured(client: Client, url: str, params: dict | None = None) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params or {}).status_code == 200
    return [q["sql"] for q in queries]


def plan(sql: str, *disabled: str) -> str:
    """The plan of `sql` with sequential scans (and `disabled` plan kinds) priced out: an
    index that can answer it is then used, or the plan still shows the scan it needs."""
    with connection.cursor() as cursor:
        for kind in ("seqscan", *disabled):
            cursor.execute(f"SET LOCAL enable_{kind} = off")
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
@pytest.mark.parametrize(
    "params", [{}, {"q": "zebra"}, {"product_name": ENDPOINT}], ids=["all", "search", "filter"]
)
def test_the_alerts_changelist_selects_no_distinct_values_of_the_alerts(
    admin_client, alerts, params
):
    queries = captured(admin_client, changelist(Alert), params)

    assert not [q for q in queries if "DISTINCT" in q and "incidents_alert" in q]


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("model", "column", "index"),
    [
        (Alert, "product_name", "alert_product_id_idx"),
        (Alert, "provider_name", "alert_provider_idx"),
        (Incident, "provider_name", "incident_provider_idx"),
    ],
)
def test_each_value_filter_walks_its_index(admin_client, alerts, model, column, index):
    IncidentFactory(workspace=alerts["entra"].workspace)
    queries = captured(admin_client, changelist(model))
    (walk,) = [q for q in queries if "WITH RECURSIVE" in q and f'"{column}"' in q]

    # Sorting priced out too: each step's "next value" must come in order from the index,
    # whatever the statistics the tests before left on these few rows.
    found = plan(walk, "sort")

    assert f"using {index}" in found, found
    assert "Seq Scan" not in found, found


@pytest.mark.postgres
def test_the_alert_search_can_use_the_trigram_index_of_names(admin_client, alerts):
    queries = captured(admin_client, changelist(Alert), {"q": "zebra"})
    (search,) = [q for q in queries if "LIKE" in q and "COUNT" not in q]

    # Only bitmap scans left: the name condition must match an index to avoid a full scan.
    found = plan(search, "indexscan")

    assert "Bitmap Index Scan on alert_name_trgm_idx" in found, found


@pytest.mark.postgres
def test_a_big_table_is_counted_about(admin_client, alerts, monkeypatch):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_alert")
        # Pretend the table is big, so its statistics count it.
        cursor.execute(
            "UPDATE pg_class SET reltuples = 123456 WHERE oid = 'incidents_alert'::regclass"
        )
    monkeypatch.setattr(EstimatedCountPaginator, "EXACT_BELOW", 1000)

    response = admin_client.get(changelist(Alert))

    assert b"about 120,000 alerts" in response.content


@pytest.mark.postgres
def test_a_search_matching_more_than_are_counted_is_counted_about(
    admin_client, workspace, monkeypatch
):
    AlertFactory.create_batch(5, workspace=workspace)
    monkeypatch.setattr(facets, "EXACT_UP_TO", 3)

    response = admin_client.get(changelist(Alert), {"q": "powershell"})

    assert len(response.context["cl"].result_list) == 5
    assert b"about " in response.content
    assert response.context["cl"].paginator.estimate is not None


def test_a_search_matching_few_is_counted_exactly(admin_client, alerts):
    response = admin_client.get(changelist(Alert), {"q": "zebra"})

    assert response.context["cl"].paginator.estimate is None
    assert b"1 result" in response.content
