"""The alerts queue: /alerts/."""

import datetime as dt

import pytest
from django.utils import timezone

from incidents import membership
from incidents.models import Alert, AlertStatus, EntityKind, Severity
from tests.factories import (
    INGESTION,
    EntityFactory,
    IncidentFactory,
    alert_in,
    give_entities,
    incident_with_alerts,
)

URL = "/alerts/"


def names_in(response) -> list[str]:
    return [a.display_name for a in response.context["page"].rows]


def test_it_sends_anonymous_users_to_log_in(client, workspace):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_lists_the_workspaces_alerts_newest_first(client, reader, workspace, outsider):
    incident = IncidentFactory(workspace=workspace)
    now = timezone.now()
    alert_in(incident, display_name="Older", time_generated=now - dt.timedelta(hours=1))
    alert_in(incident, display_name="Newer", time_generated=now)
    incident_with_alerts(1, workspace=outsider.memberships.get().workspace)
    client.force_login(reader)
    response = client.get(URL)
    assert response.status_code == 200
    assert names_in(response) == ["Newer", "Older"]


def test_each_alert_names_the_incidents_it_belongs_to(client, responder, workspace):
    first = IncidentFactory(workspace=workspace, title="First")
    second = IncidentFactory(workspace=workspace, title="Second")
    alert = alert_in(first, display_name="Shared alert")
    membership.add_alerts(second, [alert], actor=INGESTION)
    client.force_login(responder)
    html = client.get(URL).content.decode()
    assert f'href="/incidents/{first.number}/"' in html
    assert f'href="/incidents/{second.number}/"' in html
    assert 'aria-label="Select alert Shared alert"' in html
    assert 'aria-label="Select all alerts on this page"' in html
    assert "Link alerts to another incident" in html


def test_a_reader_sees_alerts_without_checkboxes(client, reader, workspace):
    incident_with_alerts(2, workspace=workspace)
    client.force_login(reader)
    html = client.get(URL).content.decode()
    assert "Select alert" not in html
    assert "Link alerts to another incident" not in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("severity=High", ["Brute force"]),
        ("status=Resolved", ["Mass download"]),
        ("product=Microsoft+Defender+for+Cloud+Apps", ["Mass download"]),
        ("q=brute", ["Brute force"]),
        ("range=24h", ["Brute force", "Mass download"]),
        ("sort=name", ["Brute force", "Mass download", "Old scan"]),
        ("sort=-severity", ["Brute force", "Mass download", "Old scan"]),
    ],
)
def test_it_filters_and_sorts_from_the_query_string(client, reader, workspace, query, expected):
    incident = IncidentFactory(workspace=workspace)
    alert_in(incident, display_name="Brute force", severity=Severity.HIGH)
    alert_in(
        incident,
        display_name="Mass download",
        status=AlertStatus.RESOLVED,
        product_name="Microsoft Defender for Cloud Apps",
    )
    alert_in(
        incident,
        display_name="Old scan",
        severity=Severity.LOW,
        time_generated=timezone.now() - dt.timedelta(days=2),
    )
    client.force_login(reader)
    response = client.get(f"{URL}?{query}")
    names = names_in(response)
    assert sorted(names) == sorted(expected)
    if "sort" in query:
        assert names == expected


SEARCHED = [
    "Brute force against VPN",
    "BRUTE FORCE on Azure portal",
    "Force-tunnel brute",
    "Phishing",
]


@pytest.fixture
def searched(workspace):
    incident = IncidentFactory(workspace=workspace)
    for name in SEARCHED:
        alert_in(incident, display_name=name)
    alert_in(incident, display_name="")


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("brute", SEARCHED[:3]),
        ("Force  BRUTE", SEARCHED[:3]),
        ("brute azure", SEARCHED[1:2]),
        ("phish", SEARCHED[3:]),
        ("tunnel-x", []),
        ("   ", [*SEARCHED, ""]),
    ],
)
@pytest.mark.parametrize("names_searched", ["among the names", "in every alert"])
def test_a_search_finds_the_alerts_whose_name_holds_every_word_in_any_case(
    client, reader, workspace, searched, monkeypatch, q, expected, names_searched
):
    if names_searched == "in every alert":
        # More names than the filter looks through: each alert's name is tested instead.
        monkeypatch.setattr("incidents.filters.MAX_VALUES", 2)
    client.force_login(reader)
    response = client.get(URL, {"q": q})
    assert sorted(names_in(response)) == sorted(expected)
    total = response.context["total"]
    assert (total.value, total.exact) == (len(expected), True)


def test_a_search_reads_the_names_once_with_the_filters_choice_lists(
    client, reader, workspace, searched, django_assert_max_num_queries
):
    client.force_login(reader)
    # Session, user, memberships; the choice lists and names; the page; its alerts'
    # incidents and entities; the count.
    with django_assert_max_num_queries(8):
        response = client.get(URL, {"q": "brute"})
    assert len(names_in(response)) == 3


def test_it_pages_with_a_cursor(client, reader, workspace):
    incident_with_alerts(75, workspace=workspace)
    client.force_login(reader)
    first = client.get(URL)
    assert len(names_in(first)) == 50
    second = client.get(URL, {"cursor": first.context["page"].next_cursor})
    assert len(names_in(second)) == 25
    assert set(names_in(first)).isdisjoint(names_in(second))


def test_htmx_gets_only_the_list(client, reader, workspace):
    incident_with_alerts(1, workspace=workspace)
    client.force_login(reader)
    html = client.get(URL, headers={"HX-Request": "true"}).content.decode()
    assert html.lstrip().startswith('<section id="alert-list"')


@pytest.mark.parametrize("rows", [10, 100])
def test_its_query_count_does_not_grow_with_rows(
    client, responder, workspace, rows, django_assert_max_num_queries
):
    for _ in range(rows // 10):
        incident_with_alerts(10, workspace=workspace)
    give_entities(Alert.objects.all(), host=3, account=1, ip=2, url=1)
    client.force_login(responder)
    # Session, user, memberships; the filters' choice lists; the page; the incidents of its
    # alerts; their entities; the count of matches.
    with django_assert_max_num_queries(8):
        response = client.get(f"{URL}?sort=-severity")
    assert len(response.context["page"].rows) == min(rows, 50)
    assert response.content.decode().count('class="entity-tag"') == min(rows, 50) * 5


def test_each_row_shows_the_alerts_hosts_accounts_and_ips_with_their_icons(
    client, reader, workspace
):
    incident = IncidentFactory(workspace=workspace)
    alert = alert_in(incident, display_name="Suspicious sign-in", product_name="Entra ID")
    alert_in(incident, display_name="Suspicious sign-in")
    entities = {
        "ws-042": EntityKind.HOST,
        "ws-043": EntityKind.HOST,
        "ws-044": EntityKind.HOST,
        "bjenkins": EntityKind.ACCOUNT,
        "10.1.2.3": EntityKind.IP,
        "https://evil.example": EntityKind.URL,
    }
    for identifier, kind in entities.items():
        alert.entities.add(EntityFactory(workspace=workspace, kind=kind, identifier=identifier))
    client.force_login(reader)
    html = client.get(URL).content.decode()
    row = next(r for r in html.split("<tr") if str(alert.system_alert_id) in r)
    # Two of each kind at most, hosts first, then accounts and IPs; the rest counted.
    assert row.index("ws-042") < row.index("ws-043") < row.index("bjenkins") < row.index("10.1.2.3")
    assert "ws-044" not in row
    assert "+1 more" in row
    assert "evil.example" not in row
    assert 'src="/static/img/kinds/host.svg" alt="Host"' in row
    assert 'src="/static/img/kinds/account.svg" alt="Account"' in row
    assert 'src="/static/img/kinds/ip.svg" alt="IP"' in row
    assert "Entra ID" in row
