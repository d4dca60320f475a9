"""The incident page: header, tabs, the Alerts tab and the Activity tab."""

import pytest

from incidents import actions, membership
from incidents.activity import Actor
from incidents.models import Alert, Severity, Via
from tests.factories import (
    AlertFactory,
    IncidentFactory,
    alert_in,
    give_entities,
    incident_with_alerts,
)


def tab(incident, name: str = "") -> str:
    return f"/incidents/{incident.number}/" + (f"{name}/" if name else "")


@pytest.mark.parametrize("name", ["", "alerts", "entities", "activity"])
def test_every_tab_needs_login(client, workspace, name):
    incident = IncidentFactory(workspace=workspace)
    response = client.get(tab(incident, name))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("name", ["", "alerts", "entities", "activity"])
def test_an_incident_of_another_workspace_is_not_found(client, outsider, workspace, name):
    incident = IncidentFactory(workspace=workspace)
    client.force_login(outsider)
    assert client.get(tab(incident, name)).status_code == 404


def test_an_unknown_number_is_not_found(client, reader):
    client.force_login(reader)
    assert client.get("/incidents/999/").status_code == 404


def test_the_header_shows_number_title_severity_status_and_owner(client, reader, workspace):
    incident = IncidentFactory(
        workspace=workspace, title="Data exfiltration", severity=Severity.HIGH, owner=reader
    )
    client.force_login(reader)
    html = client.get(tab(incident)).content.decode()
    assert f'<span class="num">#{incident.number}</span> Data exfiltration' in html
    assert '<span class="sev sev-high">High</span>' in html
    assert "New</span>" in html
    assert "<dd>reader</dd>" in html
    for name in ("alerts", "entities", "activity"):
        assert f'href="/incidents/{incident.number}/{name}/"' in html


@pytest.mark.parametrize(
    ("name", "heading"), [("", "Incident timeline"), ("entities", "Entity kinds")]
)
def test_overview_and_entities_are_tabs_of_their_own(client, reader, workspace, name, heading):
    incident = IncidentFactory(workspace=workspace)
    client.force_login(reader)
    html = client.get(tab(incident, name)).content.decode()
    assert heading in html
    assert 'aria-current="page"' in html


def test_the_alerts_tab_lists_alerts_with_checkboxes_for_a_responder(client, responder, workspace):
    incident = IncidentFactory(workspace=workspace)
    alert_in(incident, display_name="Impossible travel")
    client.force_login(responder)
    html = client.get(tab(incident, "alerts")).content.decode()
    assert 'aria-label="Select alert Impossible travel"' in html
    assert "Link alerts to another incident" in html
    assert f'name="source" value="{incident.number}"' in html
    assert f'name="next" value="/incidents/{incident.number}/alerts/"' in html


def test_the_alerts_tab_shows_each_alerts_hosts_accounts_and_ips(client, reader, workspace):
    incident = IncidentFactory(workspace=workspace)
    alert = alert_in(incident, display_name="Impossible travel", product_name="Entra ID")
    give_entities([alert], host=1, account=1, ip=1, filehash=1)
    client.force_login(reader)
    html = client.get(tab(incident, "alerts")).content.decode()
    for kind in ("host", "account", "ip"):
        assert f'src="/static/img/kinds/{kind}.svg"' in html
        assert f"{kind}-{alert.pk}-0" in html
    assert f"filehash-{alert.pk}-0" not in html
    assert "Entra ID" in html


def test_the_alerts_tab_has_no_checkboxes_for_a_reader(client, reader, workspace):
    incident = incident_with_alerts(2, workspace=workspace)
    client.force_login(reader)
    html = client.get(tab(incident, "alerts")).content.decode()
    assert "Select alert" not in html
    assert "Link alerts to another incident" not in html


def test_htmx_gets_the_incident_without_the_page_around_it(client, reader, workspace):
    incident = incident_with_alerts(1, workspace=workspace)
    client.force_login(reader)
    html = client.get(tab(incident, "alerts"), headers={"HX-Request": "true"}).content.decode()
    assert html.lstrip().startswith('<div id="incident"')
    assert "<html" not in html


def test_the_activity_tab_shows_who_when_what_and_the_comment_newest_first(
    client, reader, responder, workspace
):
    incident = incident_with_alerts(1, workspace=workspace)
    actor = Actor.for_user(responder)
    actions.add_comment(incident, "Looks like a false alarm", actor=actor)
    actions.change_status(incident, "Active", actor=actor)
    client.force_login(reader)
    response = client.get(tab(incident, "activity"))
    entries = response.context["page"].rows
    assert [e.kind for e in entries] == ["status", "comment", "alert_correlated"]
    html = response.content.decode()
    assert "Looks like a false alarm" in html
    assert "<strong>responder</strong>" in html
    assert "changed the status from New to Active" in html


def test_the_activity_tab_names_a_channel_only_when_the_actor_does_not(
    client, reader, responder, workspace
):
    # Made by ingestion (the factory's "Ingestion" system actor): "Ingestion", not
    # "Ingestion via Ingestion".
    incident = incident_with_alerts(1, workspace=workspace)
    rule = Actor.system("rule “Brute force grouping”", Via.RULE)
    membership.add_alerts(incident, [AlertFactory(workspace=workspace)], actor=rule)
    actions.add_comment(incident, "From a script", actor=Actor.for_user(responder, Via.API))
    client.force_login(reader)
    html = client.get(tab(incident, "activity")).content.decode()
    assert "<strong>Ingestion</strong> ·" in html
    assert "via Ingestion" not in html
    assert "<strong>rule “Brute force grouping”</strong> ·" in html
    assert "via Automation rule" not in html
    assert '<strong>responder</strong> <span class="muted">via API</span>' in html


def test_a_batch_entry_lists_its_alerts_open_when_few_and_collapsed_when_many(
    client, reader, responder, workspace
):
    source = incident_with_alerts(8, workspace=workspace)
    few, many = IncidentFactory(workspace=workspace), IncidentFactory(workspace=workspace)
    alerts = list(Alert.objects.filter(relations__incident=source).order_by("pk"))
    actor = Actor.for_user(responder)
    membership.move_alerts(alerts[:2], source=source, destination=few, actor=actor)
    membership.move_alerts(alerts[2:], source=source, destination=many, actor=actor)
    client.force_login(reader)

    html = client.get(tab(few, "activity")).content.decode()
    assert f"2 alerts moved in from #{source.number} by responder:" in html
    assert '<details class="entry-alerts" open>' in html
    for alert in alerts[:2]:
        assert f'<a href="/alerts/{alert.system_alert_id}/">{alert.display_name}</a>' in html
    assert f'<span class="muted">from #{source.number}</span>' in html

    html = client.get(tab(many, "activity")).content.decode()
    assert '<details class="entry-alerts">' in html
    assert "<summary>6 alerts</summary>" in html
    assert html.count(f'<a href="/alerts/{alerts[2].system_alert_id}/">') == 1

    html = client.get(tab(source, "activity")).content.decode()
    assert f"6 alerts moved out to #{many.number} by responder:" in html
    assert f"2 alerts moved out to #{few.number} by responder:" in html


def test_the_activity_tab_pages_older_entries(client, reader, responder, workspace):
    incident = IncidentFactory(workspace=workspace)
    for i in range(60):
        actions.add_comment(incident, f"note {i}", actor=Actor.for_user(responder))
    client.force_login(reader)
    first = client.get(tab(incident, "activity"))
    assert first.context["page"].rows[0].comment == "note 59"
    older = client.get(tab(incident, "activity"), {"cursor": first.context["page"].next_cursor})
    assert [e.comment for e in older.context["page"].rows] == [
        f"note {i}" for i in range(9, -1, -1)
    ]


@pytest.mark.parametrize("rows", [10, 100])
def test_the_alerts_tabs_query_count_does_not_grow_with_alerts(
    client, responder, workspace, rows, django_assert_max_num_queries
):
    incident = incident_with_alerts(rows, workspace=workspace)
    give_entities(Alert.objects.all(), host=3, account=1, ip=1)
    client.force_login(responder)
    # Session, user, memberships; the incident; its alerts; their incidents; their entities.
    with django_assert_max_num_queries(7):
        response = client.get(tab(incident, "alerts"))
    html = response.content.decode()
    assert html.count("Select alert ") == rows
    assert html.count('class="entity-tag"') == rows * 4


@pytest.mark.parametrize("rows", [10, 100])
def test_the_activity_tabs_query_count_does_not_grow_with_entries(
    client, responder, workspace, rows, django_assert_max_num_queries
):
    incident = incident_with_alerts(1, workspace=workspace)
    other = IncidentFactory(workspace=workspace)
    actor = Actor.for_user(responder)
    for i in range(rows):
        actions.add_comment(incident, f"comment {i}", actor=actor)
    membership.move_alerts(
        list(Alert.objects.filter(relations__incident=incident)),
        destination=other,
        source=incident,
        actor=actor,
    )
    client.force_login(responder)
    # Session, user, memberships; the incident; its entries with their actors; the
    # most recent change and what its Undo checks (its alerts, their incidents, those).
    with django_assert_max_num_queries(9):
        response = client.get(tab(incident, "activity"))
    assert len(response.context["page"].rows) == min(rows + 2, 50)
    assert response.context["undoable"] is not None


def test_a_full_incident_and_its_continuation_point_at_each_other(
    client, responder, workspace, settings
):
    settings.TRIAGE_MAX_ALERTS_PER_INCIDENT = 2
    full = incident_with_alerts(2, workspace=workspace, title="Password spray")
    later = IncidentFactory(workspace=workspace, continues=full)
    client.force_login(responder)

    full_page = client.get(full.get_absolute_url()).content.decode()
    later_page = client.get(later.get_absolute_url()).content.decode()

    assert (
        f'it is continued in <a href="{later.get_absolute_url()}">#{later.number}</a>' in full_page
    )
    assert (
        f'Continues <a href="{full.get_absolute_url()}">#{full.number} Password spray</a>'
        in later_page
    )
