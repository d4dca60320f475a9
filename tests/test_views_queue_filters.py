"""The queues' filters, sorts and counts (#12 item 8): provider and product as choice lists
of the values present, with free-text contains; tactic, label and "has no alerts"; every
column sortable with stable paging; how many incidents match."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.utils import timezone

from incidents import facets, selectors
from incidents.models import Alert, Incident, IncidentStatus
from tests.factories import (
    IncidentFactory,
    MembershipFactory,
    UserFactory,
    alert_in,
)

INCIDENTS = "/incidents/"
ALERTS = "/alerts/"


def numbers(response) -> list[int]:
    return [i.number for i in response.context["page"].rows]


def options(response, list_id: str) -> list[str]:
    """The values a <datalist> offers."""
    html = response.content.decode()
    found = re.search(rf'<datalist id="{list_id}">(.*?)</datalist>', html, re.S)
    assert found, f"no datalist {list_id}"
    return re.findall(r'<option value="([^"]*)">', found.group(1))


@pytest.fixture
def queue(workspace):
    """Three incidents of different providers, products, tactics and labels."""
    sentinel = IncidentFactory(workspace=workspace, provider_name="Microsoft Sentinel")
    alert_in(sentinel, product_name="Azure Sentinel", tactics=["InitialAccess"])
    xdr = IncidentFactory(
        workspace=workspace, provider_name="Microsoft Defender XDR", labels=["VIP", "Phishing"]
    )
    alert_in(
        xdr,
        product_name="Microsoft Defender for Endpoint",
        provider_name="MDATP",
        tactics=["Execution", "Persistence"],
    )
    cloud = IncidentFactory(workspace=workspace, provider_name="Microsoft Sentinel")
    alert_in(cloud, product_name="Microsoft Defender for Cloud", tactics=["Impact"])
    empty = IncidentFactory(workspace=workspace, provider_name="Triage", labels=["VIPER"])
    cafe = IncidentFactory(workspace=workspace, provider_name="Triage", labels=["Café", 'say "hi"'])
    return {"sentinel": sentinel, "xdr": xdr, "cloud": cloud, "empty": empty, "cafe": cafe}


# --- choice lists of the values present ---------------------------------------------


def test_the_incident_queue_offers_the_providers_and_products_present(
    client, reader, workspace, queue, other_workspace
):
    theirs = IncidentFactory(workspace=other_workspace, provider_name="Splunk")
    alert_in(theirs, product_name="Splunk ES")
    client.force_login(reader)
    response = client.get(INCIDENTS)
    assert options(response, "provider-values") == [
        "Microsoft Defender XDR",
        "Microsoft Sentinel",
        "Triage",
    ]
    assert options(response, "product-values") == [
        "Azure Sentinel",
        "Microsoft Defender for Cloud",
        "Microsoft Defender for Endpoint",
    ]
    html = response.content.decode()
    assert 'list="provider-values"' in html
    assert 'list="product-values"' in html


def test_the_alert_queue_offers_the_providers_and_products_present(
    client, reader, workspace, queue
):
    client.force_login(reader)
    response = client.get(ALERTS)
    assert options(response, "provider-values") == ["ASI Scheduled Alerts", "MDATP"]
    assert "Microsoft Defender for Cloud" in options(response, "product-values")


def test_the_values_present_are_found_in_one_query_and_leave_out_empty_ones(
    workspace, other_workspace, django_assert_num_queries
):
    incident = IncidentFactory(workspace=workspace)
    for product in ["B", "A", "", "B", "C"]:
        alert_in(incident, product_name=product)
    alert_in(IncidentFactory(workspace=other_workspace), product_name="Elsewhere")
    with django_assert_num_queries(1):
        found = facets.present_values(
            workspace, [(Alert, "product_name"), (Incident, "provider_name")]
        )
    assert found == [["A", "B", "C"], ["Microsoft Sentinel"]]


@pytest.mark.postgres
def test_on_postgresql_the_values_present_come_from_the_indexes_not_a_scan(workspace):
    incident = IncidentFactory(workspace=workspace)
    Alert.objects.bulk_create(
        Alert(
            workspace=workspace,
            display_name=f"Brute force {n}",
            product_name=f"Product {n % 3}",
            provider_name=f"Provider {n % 2}",
            time_generated=timezone.now(),
        )
        for n in range(5000)
    )
    alert_in(incident, product_name="Product 9")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_alert")
        cursor.execute("ANALYZE incidents_incident")
        fields = [(Incident, "provider_name"), (Alert, "product_name"), (Alert, "provider_name")]
        sql, params = facets.values_query(workspace, fields)
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan on incidents_alert" not in plan
    assert "alert_product_id_idx" in plan
    assert "alert_provider_idx" in plan
    found = facets.present_values(workspace, fields)
    assert found[1] == ["Product 0", "Product 1", "Product 2", "Product 9"]


# --- provider and product: a choice or part of a name -----------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("provider=Microsoft+Sentinel", {"sentinel", "cloud"}),
        ("provider=microsoft+sentinel", {"sentinel", "cloud"}),
        ("provider=defender", {"xdr"}),
        ("provider=Nobody", set()),
        ("product=Microsoft+Defender+for+Cloud", {"cloud"}),
        ("product=defender", {"xdr", "cloud"}),
        ("product=sentinel", {"sentinel"}),
    ],
)
def test_provider_and_product_take_a_value_present_or_part_of_one(
    client, reader, queue, query, expected
):
    client.force_login(reader)
    response = client.get(f"{INCIDENTS}?{query}")
    assert set(numbers(response)) == {queue[name].number for name in expected}


def test_the_alert_queue_filters_by_provider_and_tactic(client, reader, queue):
    client.force_login(reader)
    by_provider = client.get(f"{ALERTS}?provider=mdatp")
    assert [a.product_name for a in by_provider.context["page"].rows] == [
        "Microsoft Defender for Endpoint"
    ]
    by_tactic = client.get(f"{ALERTS}?tactic=Impact")
    assert [a.product_name for a in by_tactic.context["page"].rows] == [
        "Microsoft Defender for Cloud"
    ]


# --- tactic, label, has no alerts -----------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tactic=Persistence", {"xdr"}),
        ("tactic=InitialAccess", {"sentinel"}),
        ("tactic=Discovery", set()),
        ("label=VIP", {"xdr"}),
        ("label=vip", {"xdr"}),
        ("label=Caf%C3%A9", {"cafe"}),
        ("label=caf%C3%A9", {"cafe"}),
        ("label=Phishing", {"xdr"}),
        ("label=VIPER", {"empty"}),
        ("label=say+%22hi%22", {"cafe"}),
        ("alerts=none", {"empty", "cafe"}),
        ("alerts=none&label=VIP", set()),
    ],
)
def test_tactic_label_and_alerts_narrow_the_queue(client, reader, queue, query, expected):
    client.force_login(reader)
    response = client.get(f"{INCIDENTS}?{query}")
    assert set(numbers(response)) == {queue[name].number for name in expected}


def test_a_tactic_that_is_not_one_is_ignored_not_an_error(client, reader, queue):
    client.force_login(reader)
    response = client.get(f"{INCIDENTS}?tactic=<script>")
    assert response.status_code == 200
    assert len(numbers(response)) == len(queue)


# --- every column sortable ----------------------------------------------------------


def test_status_and_owner_headers_sort_the_queue(client, reader, workspace):
    alice = UserFactory(username="alice")
    bob = UserFactory(username="bob")
    a = IncidentFactory(workspace=workspace, status=IncidentStatus.NEW, owner=bob)
    b = IncidentFactory(workspace=workspace, status=IncidentStatus.ACTIVE, owner=None)
    c = IncidentFactory(workspace=workspace, status=IncidentStatus.NEW, owner=alice)
    client.force_login(reader)
    html = client.get(INCIDENTS).content.decode()
    assert 'href="?sort=-status"' in html
    assert 'href="?sort=-owner"' in html
    assert numbers(client.get(f"{INCIDENTS}?sort=status")) == [b.number, a.number, c.number]
    assert numbers(client.get(f"{INCIDENTS}?sort=-status")) == [c.number, a.number, b.number]
    # By owner name; unassigned sorts last going up, first going down.
    assert numbers(client.get(f"{INCIDENTS}?sort=owner")) == [c.number, a.number, b.number]
    assert numbers(client.get(f"{INCIDENTS}?sort=-owner")) == [b.number, a.number, c.number]


@pytest.mark.parametrize("sort", ["status", "-status", "owner", "-owner"])
def test_paging_a_status_or_owner_sort_shows_every_incident_once(
    client, reader, workspace, sort, monkeypatch
):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 5)
    users = [UserFactory(username=f"analyst{i}") for i in range(3)]
    statuses = [IncidentStatus.NEW, IncidentStatus.ACTIVE]
    made = {
        IncidentFactory(
            workspace=workspace, status=statuses[i % 2], owner=([None, *users])[i % 4]
        ).number
        for i in range(23)
    }
    client.force_login(reader)
    seen, url = [], f"{INCIDENTS}?sort={sort}"
    while url:
        response = client.get(url)
        seen += numbers(response)
        cursor = response.context["page"].next_cursor
        url = f"{INCIDENTS}?sort={sort}&cursor={cursor}" if cursor else None
    assert sorted(seen) == sorted(made)
    assert len(seen) == len(made)


def test_the_alert_queue_sorts_by_status(client, reader, workspace):
    incident = IncidentFactory(workspace=workspace)
    resolved = alert_in(incident, status="Resolved")
    new = alert_in(incident, status="New")
    client.force_login(reader)
    response = client.get(f"{ALERTS}?sort=status")
    assert [a.pk for a in response.context["page"].rows] == [new.pk, resolved.pk]
    assert 'href="?sort=-status"' in response.content.decode()


# --- how many match ------------------------------------------------------------------


def test_the_queue_says_how_many_incidents_match(client, reader, workspace, queue):
    client.force_login(reader)
    assert "5 incidents match these filters" in client.get(INCIDENTS).content.decode()
    one = client.get(f"{INCIDENTS}?label=VIP").content.decode()
    assert "1 incident matches these filters" in one
    alerts = client.get(ALERTS).content.decode()
    assert "3 alerts match these filters" in alerts


@pytest.mark.postgres
def test_past_a_thousand_the_count_is_the_planners_estimate(client, reader, workspace):
    now = timezone.now()
    Incident.objects.bulk_create(
        Incident(
            workspace=workspace,
            number=n,
            title=f"Brute force {n}",
            last_activity_time=now - dt.timedelta(minutes=n),
        )
        for n in range(1, 1202)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_incident")
    total = facets.count_matching(Incident.objects.filter(workspace=workspace))
    assert not total.exact
    assert 1100 <= total.value <= 1300
    client.force_login(reader)
    html = client.get(INCIDENTS).content.decode()
    assert re.search(r"About 1,[12]00 incidents match these filters", html)


@pytest.mark.postgres
def test_up_to_a_thousand_the_count_is_exact(workspace):
    Incident.objects.bulk_create(
        Incident(workspace=workspace, number=n, title=f"Brute force {n}") for n in range(1, 1001)
    )
    total = facets.count_matching(Incident.objects.filter(workspace=workspace))
    assert total == facets.Total(1000, exact=True)


def test_an_estimate_is_rounded_to_two_figures():
    assert facets.Total(12_043, exact=False).rounded == 12_000
    assert facets.Total(1_051, exact=False).rounded == 1_100
    assert facets.Total(12_043, exact=True).rounded == 12_043


# --- query counts ----------------------------------------------------------------------


@pytest.mark.parametrize("rows", [10, 60])
def test_the_queue_with_every_filter_and_a_new_sort_keeps_its_query_count(
    client, responder, workspace, rows, django_assert_max_num_queries
):
    owners = [responder, UserFactory(username="zed")]
    MembershipFactory(workspace=workspace, user=owners[1])
    for i in range(rows):
        incident = IncidentFactory(workspace=workspace, owner=owners[i % 2], labels=["VIP"])
        alert_in(incident, product_name="Microsoft Defender for Endpoint", tactics=["Execution"])
    client.force_login(responder)
    query = "provider=sentinel&product=defender&tactic=Execution&label=VIP&sort=-owner"
    # Session, user, memberships; the filters' choice lists; the page; its product names;
    # the count of matches.
    with django_assert_max_num_queries(7):
        response = client.get(f"{INCIDENTS}?{query}")
    assert len(response.context["page"].rows) == min(rows, 50)
    for sort in ["status", "-owner"]:
        with django_assert_max_num_queries(7):
            client.get(f"{INCIDENTS}?sort={sort}", headers={"HX-Request": "true"})


@pytest.mark.parametrize("rows", [10, 60])
def test_the_alert_queue_with_its_filters_keeps_its_query_count(
    client, responder, workspace, rows, django_assert_max_num_queries
):
    incident = IncidentFactory(workspace=workspace)
    for _ in range(rows):
        alert_in(incident, tactics=["Execution"])
    client.force_login(responder)
    # Session, user, memberships; the filters' choice lists; the page; the incidents of its
    # alerts; their entities; the count of matches.
    with django_assert_max_num_queries(8):
        response = client.get(
            f"{ALERTS}?provider=asi&product=sentinel&tactic=Execution&sort=status"
        )
    assert len(response.context["page"].rows) == min(rows, 50)


def test_another_workspaces_values_never_show(client, outsider, workspace, queue):
    client.force_login(outsider)
    response = client.get(INCIDENTS)
    assert options(response, "provider-values") == []
    assert options(response, "product-values") == []
