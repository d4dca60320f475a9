"""The incidents queue: /incidents/ and the row that expands under an incident."""

import datetime as dt

import pytest
from django.utils import timezone

from incidents import membership
from incidents.models import Alert, IncidentStatus, Severity
from tests.factories import (
    INGESTION,
    IncidentFactory,
    MembershipFactory,
    UserFactory,
    alert_in,
    give_entities,
    incident_with_alerts,
)

URL = "/incidents/"


def numbers_in(response) -> list[int]:
    return [i.number for i in response.context["page"].rows]


def test_home_goes_to_the_queue(client, responder):
    client.force_login(responder)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == URL


def test_it_sends_anonymous_users_to_log_in(client, workspace):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/incidents/")


def test_it_tells_a_user_without_a_workspace_so(client, db):
    client.force_login(UserFactory(username="newcomer"))
    response = client.get(URL)
    assert response.status_code == 200
    assert b"You have no workspace yet" in response.content


def test_it_lists_open_incidents_of_the_workspace_only(client, reader, workspace, outsider):
    mine = incident_with_alerts(1, workspace=workspace, title="Ransomware on HR laptop")
    closed = IncidentFactory(workspace=workspace, status=IncidentStatus.CLOSED)
    theirs = incident_with_alerts(1, workspace=outsider.memberships.get().workspace)
    client.force_login(reader)
    response = client.get(URL)
    assert response.status_code == 200
    assert b"Ransomware on HR laptop" in response.content
    assert [i.pk for i in response.context["page"].rows] == [mine.pk]
    assert closed.pk not in [i.pk for i in response.context["page"].rows]
    assert theirs.title.encode() not in response.content


def test_each_row_shows_the_columns_an_analyst_needs(client, reader, workspace):
    incident = IncidentFactory(workspace=workspace, title="Credential theft", owner=reader)
    alert_in(incident, product_name="Microsoft Defender for Endpoint", severity=Severity.HIGH)
    alert_in(incident, product_name="Microsoft Entra ID Protection")
    alert_in(incident, product_name="Microsoft Entra ID Protection")
    client.force_login(reader)
    html = client.get(URL).content.decode()
    assert f"#{incident.number}" in html
    assert 'aria-label="Show alerts for incident #1"' in html
    assert "Microsoft Defender for Endpoint" in html
    assert html.count(">Microsoft Entra ID Protection<") == 1
    assert ">reader<" in html
    assert 'class="count">3<' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=Closed", ["closed"]),
        ("status=", ["closed", "high", "mine", "sentinel"]),
        ("severity=High", ["high"]),
        ("owner=me", ["mine"]),
        ("owner=none&severity=Medium", ["sentinel"]),
        ("q=lateral+movement", ["high"]),
        ("q=%233", ["mine"]),
        ("provider=Microsoft+Defender+XDR", ["mine"]),
        ("product=Azure+Firewall", ["sentinel"]),
        ("range=24h", ["high", "mine"]),
        ("severity=bogus", ["high", "mine", "sentinel"]),
        ("alerts=none&status=", ["closed"]),
        ("alerts=some", ["high", "mine", "sentinel"]),
    ],
)
def test_it_filters_from_the_query_string(client, reader, workspace, query, expected):
    old = timezone.now() - dt.timedelta(days=3)
    made = {
        "closed": IncidentFactory(workspace=workspace, status=IncidentStatus.CLOSED),
        "high": IncidentFactory(
            workspace=workspace, severity=Severity.HIGH, title="Lateral movement via SMB"
        ),
        "mine": IncidentFactory(
            workspace=workspace, owner=reader, provider_name="Microsoft Defender XDR"
        ),
        "sentinel": IncidentFactory(workspace=workspace),
    }
    for name in ("high", "mine"):
        alert_in(made[name])
    alert_in(made["sentinel"], product_name="Azure Firewall", time_generated=old)
    client.force_login(reader)
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 200
    names = {i.pk: name for name, i in made.items()}
    assert sorted(names[i.pk] for i in response.context["page"].rows) == expected


def test_it_sorts_by_severity_most_severe_first(client, reader, workspace):
    for severity in (Severity.LOW, Severity.HIGH, Severity.INFORMATIONAL, Severity.MEDIUM):
        IncidentFactory(workspace=workspace, severity=severity)
    client.force_login(reader)
    rows = client.get(f"{URL}?sort=-severity").context["page"].rows
    assert [i.severity for i in rows] == ["High", "Medium", "Low", "Informational"]
    rows = client.get(f"{URL}?sort=severity").context["page"].rows
    assert [i.severity for i in rows] == ["Informational", "Low", "Medium", "High"]


def test_it_sorts_by_last_activity_newest_first_by_default(client, reader, workspace):
    now = timezone.now()
    older = IncidentFactory(workspace=workspace, last_activity_time=now - dt.timedelta(hours=2))
    newer = IncidentFactory(workspace=workspace, last_activity_time=now)
    client.force_login(reader)
    assert numbers_in(client.get(URL)) == [newer.number, older.number]
    assert numbers_in(client.get(f"{URL}?sort=last_activity")) == [older.number, newer.number]


def test_it_pages_forward_and_back_without_counting(client, reader, workspace):
    start = timezone.now()
    for i in range(120):
        # Ties on the sort column are broken by number.
        IncidentFactory(workspace=workspace, last_activity_time=start + dt.timedelta(hours=i // 2))
    client.force_login(reader)
    first = client.get(URL)
    assert numbers_in(first) == list(range(120, 70, -1))
    second = client.get(URL, {"cursor": first.context["page"].next_cursor})
    assert numbers_in(second) == list(range(70, 20, -1))
    third = client.get(URL, {"cursor": second.context["page"].next_cursor})
    assert numbers_in(third) == list(range(20, 0, -1))
    assert third.context["page"].next_cursor is None
    back = client.get(URL, {"cursor": third.context["page"].previous_cursor})
    assert numbers_in(back) == list(range(70, 20, -1))
    assert b'rel="prev"' in back.content
    assert b'rel="next"' in back.content


def test_paging_keeps_the_filters(client, reader, workspace):
    for _ in range(55):
        IncidentFactory(workspace=workspace, severity=Severity.HIGH)
    IncidentFactory(workspace=workspace, severity=Severity.LOW)
    client.force_login(reader)
    first = client.get(URL, {"severity": "High"})
    assert "severity=High&amp;cursor=" in first.content.decode()
    second = client.get(URL, {"severity": "High", "cursor": first.context["page"].next_cursor})
    assert len(numbers_in(second)) == 5


def test_a_tampered_cursor_shows_the_first_page(client, reader, workspace):
    IncidentFactory(workspace=workspace)
    client.force_login(reader)
    for cursor in ("nonsense", "W10", "WyJuIiwgWzEsMiwzXV0"):
        response = client.get(URL, {"cursor": cursor})
        assert response.status_code == 200
        assert len(numbers_in(response)) == 1


def test_htmx_gets_only_the_list(client, reader, workspace):
    IncidentFactory(workspace=workspace, title="Phishing wave")
    client.force_login(reader)
    response = client.get(URL, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="incident-list"')
    assert "Phishing wave" in html
    assert "<html" not in html


def test_it_shows_only_the_current_workspace_of_a_member_of_two(client, workspace, responder):
    second = MembershipFactory(user=responder, workspace__name="zz-second").workspace
    here = IncidentFactory(workspace=workspace, title="In soc")
    there = IncidentFactory(workspace=second, title="In second")
    client.force_login(responder)
    assert [i.pk for i in client.get(URL).context["page"].rows] == [here.pk]
    client.post("/workspace/", {"workspace": "zz-second"})
    assert [i.pk for i in client.get(URL).context["page"].rows] == [there.pk]


@pytest.mark.parametrize("rows", [10, 100])
def test_its_query_count_does_not_grow_with_rows(
    client, responder, workspace, rows, django_assert_max_num_queries
):
    for _ in range(rows):
        incident = IncidentFactory(workspace=workspace, owner=responder)
        alert_in(incident, product_name="Microsoft Defender for Endpoint")
    client.force_login(responder)
    # Session, user, memberships; the filters' choice lists; the page; its product names;
    # the count of matches.
    with django_assert_max_num_queries(6):
        response = client.get(f"{URL}?sort=-severity&product=Microsoft+Defender+for+Endpoint")
    assert len(response.context["page"].rows) == min(rows, 50)


@pytest.mark.parametrize("rows", [10, 100])
def test_its_query_count_does_not_grow_with_incidents_without_alerts(
    client, responder, workspace, rows, django_assert_max_num_queries
):
    IncidentFactory.create_batch(rows, workspace=workspace)
    client.force_login(responder)
    # Session, user, memberships; the filters' choice lists; the page; its product names;
    # the count of matches.
    with django_assert_max_num_queries(6):
        response = client.get(f"{URL}?alerts=none")
    assert len(response.context["page"].rows) == min(rows, 50)
    assert response.content.decode().count("data-no-alerts>No alerts<") == min(rows, 50)


# --- the expanded row ---------------------------------------------------------------


def rows_url(incident) -> str:
    return f"/incidents/{incident.number}/alerts/rows/"


def test_an_expanded_row_lists_the_incidents_alerts_with_checkboxes(client, responder, workspace):
    incident = incident_with_alerts(2, workspace=workspace)
    client.force_login(responder)
    response = client.get(rows_url(incident), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr class="expansion" id="expansion-{incident.number}"')
    for alert in incident.relations.all():
        assert f'aria-label="Select alert {alert.alert.display_name}"' in html
    assert "Link alerts to another incident" in html
    assert f'name="source" value="{incident.number}"' in html


def test_an_expanded_row_returns_to_the_queue_the_user_came_from(client, responder, workspace):
    incident = incident_with_alerts(1, workspace=workspace)
    client.force_login(responder)
    html = client.get(
        rows_url(incident),
        headers={
            "HX-Request": "true",
            "HX-Current-URL": "http://testserver/incidents/?severity=Low",
        },
    ).content.decode()
    assert 'name="next" value="/incidents/?severity=Low"' in html


def test_an_expanded_row_shows_each_alerts_hosts_accounts_and_ips(client, reader, workspace):
    incident = IncidentFactory(workspace=workspace)
    alert = alert_in(incident, product_name="Microsoft Defender for Identity")
    give_entities([alert], host=1, account=1, ip=1)
    client.force_login(reader)
    html = client.get(rows_url(incident), headers={"HX-Request": "true"}).content.decode()
    for kind in ("host", "account", "ip"):
        assert f'src="/static/img/kinds/{kind}.svg"' in html
        assert f"{kind}-{alert.pk}-0" in html
    assert "Microsoft Defender for Identity" in html


def test_a_reader_sees_an_expanded_row_without_checkboxes(client, reader, workspace):
    incident = incident_with_alerts(2, workspace=workspace)
    client.force_login(reader)
    html = client.get(rows_url(incident)).content.decode()
    assert "Select alert" not in html
    assert "Link alerts to another incident" not in html


def test_an_expanded_row_of_another_workspace_is_not_found(client, outsider, workspace):
    incident = incident_with_alerts(1, workspace=workspace)
    client.force_login(outsider)
    assert client.get(rows_url(incident)).status_code == 404


def test_an_expanded_row_needs_login(client, workspace):
    incident = incident_with_alerts(1, workspace=workspace)
    assert client.get(rows_url(incident)).status_code == 302


def test_the_queue_does_not_accept_posts(client, responder):
    client.force_login(responder)
    assert client.post(URL).status_code == 405


@pytest.mark.parametrize("rows", [10, 100])
def test_an_expanded_rows_query_count_does_not_grow_with_alerts(
    client, responder, workspace, rows, django_assert_max_num_queries
):
    incident = incident_with_alerts(rows, workspace=workspace)
    # Some alerts also belong to another incident, which the rows name.
    shared = list(Alert.objects.filter(relations__incident=incident)[:5])
    membership.add_alerts(IncidentFactory(workspace=workspace), shared, actor=INGESTION)
    give_entities(Alert.objects.all(), host=1, account=3, ip=1)
    client.force_login(responder)
    # Session, user, memberships; the incident; its alerts; their incidents; their entities.
    with django_assert_max_num_queries(7):
        response = client.get(rows_url(incident), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.count("Select alert ") == rows
    assert html.count('class="entity-tag"') == rows * 4
