"""The Overview as Sentinel's: its summary (tactics and techniques linked to MITRE, entity
counts by kind, products), severity and labels edited in place, and similar incidents."""

import datetime as dt
import json
import uuid

import pytest
from django.utils import timezone

from incidents import actions
from incidents.activity import Actor
from incidents.models import ActivityKind
from tests.factories import (
    EntityFactory,
    IncidentFactory,
    activity_of,
    alert_in,
    incident_with_alerts,
    snapshot,
)

HTMX = {"HX-Request": "true"}


@pytest.fixture
def incident(workspace):
    return incident_with_alerts(0, workspace=workspace, title="Multi-stage attack")


def post(client, incident, action: str, **data):
    data.setdefault("form_token", str(uuid.uuid4()))
    return client.post(f"/incidents/{incident.number}/{action}/", data, headers=HTMX)


def changed(response) -> dict:
    assert response.status_code == 204, response.content
    return json.loads(response["HX-Trigger"])["incidentChanged"]


def refused(response) -> str:
    assert response.status_code == 200
    return json.loads(response["HX-Trigger"])["actionRefused"]["message"]


# --- the summary -------------------------------------------------------------------


def test_the_overview_links_tactics_and_techniques_to_mitre(client, reader, incident):
    alert_in(incident, tactics=["InitialAccess", "Execution"], techniques=["T1566.001"])
    alert_in(incident, tactics=["Execution", "Unheard Of"], techniques=["T1059", "not-an-id"])
    client.force_login(reader)
    html = client.get(f"/incidents/{incident.number}/").content.decode()
    summary = html[html.index('id="summary-heading"') :]
    # Kill-chain order, each known tactic once; an unknown one as the alert says it.
    assert (
        summary.index("Initial access") < summary.index("Execution") < summary.index("Unheard Of")
    )
    assert summary.count(">Execution<") == 1
    assert 'href="https://attack.mitre.org/tactics/TA0001/"' in summary
    assert 'href="https://attack.mitre.org/tactics/TA0002/"' in summary
    assert 'href="https://attack.mitre.org/techniques/T1566/001/"' in summary
    assert 'href="https://attack.mitre.org/techniques/T1059/"' in summary
    assert '<span class="chip">not-an-id</span>' in summary
    assert 'rel="noopener noreferrer"' in summary


def test_the_overview_counts_entities_by_kind_and_names_the_products(client, reader, incident):
    one = alert_in(incident, product_name="Microsoft Defender for Endpoint")
    two = alert_in(incident, product_name="Microsoft Entra ID Protection")
    host = EntityFactory(workspace=incident.workspace, kind="host")
    accounts = EntityFactory.create_batch(2, workspace=incident.workspace, kind="account")
    one.entities.add(host, *accounts)
    two.entities.add(host)
    client.force_login(reader)
    html = client.get(f"/incidents/{incident.number}/").content.decode()
    summary = html[html.index('id="summary-heading"') : html.index('id="details-heading"')]
    assert "Microsoft Defender for Endpoint" in summary
    assert "Microsoft Entra ID Protection" in summary
    kinds = summary[summary.index('aria-label="Entities by kind"') :]
    assert kinds.index("Account") < kinds.index("Host")  # the most numerous kind first
    assert 'Account <span class="badge">2</span>' in kinds
    assert 'Host <span class="badge">1</span>' in kinds
    assert f'href="/incidents/{incident.number}/entities/?kind=host"' in kinds


def test_the_overview_costs_the_same_queries_for_one_alert_or_many(
    client, reader, incident, django_assert_max_num_queries
):
    client.force_login(reader)
    alert = alert_in(incident)
    alert.entities.add(EntityFactory(workspace=incident.workspace))
    client.get(f"/incidents/{incident.number}/")  # session and caches warm
    with django_assert_max_num_queries(12) as one:
        client.get(f"/incidents/{incident.number}/")
    for _ in range(20):
        alert_in(incident).entities.add(EntityFactory(workspace=incident.workspace))
    with django_assert_max_num_queries(12) as many:
        client.get(f"/incidents/{incident.number}/")
    assert len(many.captured_queries) == len(one.captured_queries)


# --- severity ----------------------------------------------------------------------


def test_a_responder_changes_the_severity(client, responder, incident):
    client.force_login(responder)
    detail = changed(post(client, incident, "severity", severity="High"))
    incident.refresh_from_db()
    assert incident.severity == "High"
    assert detail["message"] == f"Incident #{incident.number} is now of High severity."
    (entry,) = activity_of(incident, ActivityKind.SEVERITY)
    assert entry.message == "responder changed the severity from Medium to High."
    assert entry.details == {"from": "Medium", "to": "High"}


def test_the_same_severity_again_changes_nothing(client, responder, incident):
    client.force_login(responder)
    changed(post(client, incident, "severity", severity="Medium"))
    assert activity_of(incident, ActivityKind.SEVERITY) == []


@pytest.mark.parametrize("severity", ["", "Critical", "high", "Closed"])
def test_an_unknown_severity_is_refused(client, responder, incident, severity):
    client.force_login(responder)
    before = snapshot()
    assert "Severity must be one of" in refused(
        post(client, incident, "severity", severity=severity)
    )
    assert snapshot() == before


def test_a_reader_cannot_change_the_severity(client, reader, incident):
    client.force_login(reader)
    before = snapshot()
    assert post(client, incident, "severity", severity="High").status_code == 403
    assert snapshot() == before


def test_the_severity_form_is_offered_to_responders_only(client, responder, reader, incident):
    client.force_login(responder)
    html = client.get(f"/incidents/{incident.number}/").content.decode()
    assert 'id="incident-severity"' in html
    assert '<option value="Medium" selected>Medium</option>' in html
    client.force_login(reader)
    assert (
        'id="incident-severity"'
        not in client.get(f"/incidents/{incident.number}/").content.decode()
    )


def test_changing_the_severity_twice_with_one_form_applies_once(client, responder, incident):
    client.force_login(responder)
    token = str(uuid.uuid4())
    post(client, incident, "severity", severity="High", form_token=token)
    actions.change_severity(incident, "Low", actor=Actor.for_user(responder))
    post(client, incident, "severity", severity="High", form_token=token)
    incident.refresh_from_db()
    assert incident.severity == "Low"  # the repeat did not apply again


# --- labels ------------------------------------------------------------------------


def test_a_responder_adds_and_removes_labels(client, responder, incident):
    client.force_login(responder)
    changed(post(client, incident, "labels", label="  phishing   campaign "))
    changed(post(client, incident, "labels", label="VIP"))
    incident.refresh_from_db()
    assert incident.labels == ["phishing campaign", "VIP"]
    changed(post(client, incident, "labels/remove", label="phishing campaign"))
    incident.refresh_from_db()
    assert incident.labels == ["VIP"]
    messages = [e.message for e in activity_of(incident, ActivityKind.LABELS)]
    assert messages == [
        "responder added the label phishing campaign.",
        "responder added the label VIP.",
        "responder removed the label phishing campaign.",
    ]


def test_a_label_the_incident_has_in_any_case_is_not_added_twice(client, responder, incident):
    client.force_login(responder)
    changed(post(client, incident, "labels", label="VIP"))
    changed(post(client, incident, "labels", label="vip"))
    incident.refresh_from_db()
    assert incident.labels == ["VIP"]
    assert len(activity_of(incident, ActivityKind.LABELS)) == 1


def test_removing_a_label_the_incident_does_not_have_changes_nothing(client, responder, incident):
    client.force_login(responder)
    before = snapshot()
    changed(post(client, incident, "labels/remove", label="nope"))
    assert snapshot() == before


@pytest.mark.parametrize(
    ("label", "problem"),
    [
        ("", "A label cannot be empty."),
        ("   ", "A label cannot be empty."),
        ("x" * 101, "A label can be at most 100 characters long."),
        ("bad\x00label", "A label cannot contain control characters."),
        ("bell\x07", "A label cannot contain control characters."),
    ],
)
def test_a_bad_label_is_refused_with_a_reason(client, responder, incident, label, problem):
    client.force_login(responder)
    before = snapshot()
    assert refused(post(client, incident, "labels", label=label)) == problem
    assert snapshot() == before


def test_an_incident_holds_at_most_fifty_labels(client, responder, incident):
    incident.labels = [f"label {n}" for n in range(50)]
    incident.save(update_fields=["labels"])
    client.force_login(responder)
    assert refused(post(client, incident, "labels", label="one more")) == (
        "An incident can have at most 50 labels."
    )


def test_a_reader_sees_labels_but_cannot_change_them(client, reader, incident):
    incident.labels = ["VIP"]
    incident.save(update_fields=["labels"])
    client.force_login(reader)
    html = client.get(f"/incidents/{incident.number}/").content.decode()
    assert '<span class="chip label">VIP</span>' in html
    assert 'id="label-new"' not in html
    before = snapshot()
    assert post(client, incident, "labels", label="mine").status_code == 403
    assert post(client, incident, "labels/remove", label="VIP").status_code == 403
    assert snapshot() == before


def test_each_label_has_its_remove_button(client, responder, incident):
    incident.labels = ["VIP", "<b>x</b>"]
    incident.save(update_fields=["labels"])
    client.force_login(responder)
    html = client.get(f"/incidents/{incident.number}/").content.decode()
    assert 'aria-label="Remove label VIP"' in html
    assert 'aria-label="Remove label &lt;b&gt;x&lt;/b&gt;"' in html
    assert '<input type="hidden" name="label" value="&lt;b&gt;x&lt;/b&gt;">' in html


def test_label_and_severity_changes_without_javascript_go_back(client, responder, incident):
    client.force_login(responder)
    back = f"/incidents/{incident.number}/"
    response = client.post(f"/incidents/{incident.number}/labels/", {"label": "VIP", "next": back})
    assert response.status_code == 302
    assert response.url == back
    response = client.post(
        f"/incidents/{incident.number}/severity/", {"severity": "Low", "next": back}
    )
    assert response.status_code == 302
    assert response.url == back
    incident.refresh_from_db()
    assert (incident.labels, incident.severity) == (["VIP"], "Low")


@pytest.mark.parametrize("action", ["severity", "labels", "labels/remove"])
def test_the_edits_answer_only_post(client, responder, incident, action):
    client.force_login(responder)
    assert client.get(f"/incidents/{incident.number}/{action}/").status_code == 405


@pytest.mark.parametrize("action", ["severity", "labels", "labels/remove"])
def test_an_outsider_gets_not_found(client, outsider, incident, action):
    client.force_login(outsider)
    before = snapshot()
    response = post(client, incident, action, severity="High", label="x")
    assert response.status_code == 404
    assert snapshot() == before


# --- similar incidents ---------------------------------------------------------------


def similar_html(client, incident) -> str:
    return client.get(f"/incidents/{incident.number}/similar/", headers=HTMX).content.decode()


def test_the_overview_loads_similar_incidents_after_the_page(client, reader, incident):
    client.force_login(reader)
    html = client.get(f"/incidents/{incident.number}/").content.decode()
    card = html[html.index('id="similar-incidents"') :]
    assert f'hx-get="/incidents/{incident.number}/similar/" hx-trigger="load"' in card
    assert (
        f'<a href="/incidents/{incident.number}/similar/">Show incidents like this one</a>' in card
    )


def test_similar_incidents_share_entities_title_or_rule(client, reader, workspace, incident):
    host = EntityFactory(workspace=workspace, kind="host", identifier="mb-winclient")
    account = EntityFactory(workspace=workspace, kind="account", identifier="bjenkins")
    alert_in(incident).entities.add(host, account)
    both = incident_with_alerts(0, workspace=workspace, title="Other one")
    alert_in(both).entities.add(host, account)
    one = incident_with_alerts(0, workspace=workspace, title="Another one")
    alert_in(one).entities.add(account)
    titled = incident_with_alerts(1, workspace=workspace, title="Multi-stage attack")
    unrelated = incident_with_alerts(1, workspace=workspace, title="Unrelated")
    client.force_login(reader)
    html = similar_html(client, incident)
    assert html.lstrip().startswith('<section id="similar-incidents"')
    assert (
        html.index(f"#{both.number} ")
        < html.index(f"#{one.number} ")
        < html.index(f"#{titled.number} ")
    )
    assert "2 shared entities: bjenkins, mb-winclient" in html
    assert "1 shared entity: bjenkins" in html
    assert "same title" in html
    assert f"#{unrelated.number} " not in html
    assert f"#{incident.number} " not in html


def test_values_too_common_to_correlate_on_do_not_make_incidents_similar(
    client, reader, workspace, incident
):
    from incidents.models import CorrelationExclusion

    dc = EntityFactory(workspace=workspace, kind="host", identifier="dc01")
    alert_in(incident).entities.add(dc)
    other = incident_with_alerts(0, workspace=workspace, title="Other")
    alert_in(other).entities.add(dc)
    CorrelationExclusion.objects.create(workspace=workspace, entity=dc, reason="Domain controller")
    client.force_login(reader)
    assert f"#{other.number} " not in similar_html(client, incident)


def test_values_found_in_very_many_incidents_do_not_make_incidents_similar(
    client, reader, workspace, incident, monkeypatch
):
    monkeypatch.setattr("incidents.similar.COMMON_INCIDENTS", 2)
    scanner = EntityFactory(workspace=workspace, kind="ip", identifier="10.0.0.5")
    account = EntityFactory(workspace=workspace, kind="account", identifier="bjenkins")
    alert_in(incident).entities.add(scanner, account)
    others = [incident_with_alerts(0, workspace=workspace, title=f"Scan {n}") for n in range(2)]
    for other in others:
        alert_in(other).entities.add(scanner)
    alert_in(others[0]).entities.add(account)
    client.force_login(reader)

    html = similar_html(client, incident)

    # The scanner is in three incidents, more than two: only the account counts.
    assert "1 shared entity: bjenkins" in html
    assert f"#{others[1].number} " not in html


def old_incidents(workspace, count: int, *entities) -> list:
    """`count` incidents whose one alert, with `entities`, is 40 days old: outside the
    14-day window of similar incidents."""
    long_ago = timezone.now() - dt.timedelta(days=40)
    old = [incident_with_alerts(0, workspace=workspace, title=f"Old {n}") for n in range(count)]
    for other in old:
        alert_in(other, time_generated=long_ago).entities.add(*entities)
    IncidentFactory._meta.model.objects.filter(pk__in=[o.pk for o in old]).update(
        first_activity_time=long_ago, last_activity_time=long_ago
    )
    return old


def test_incidents_older_than_fourteen_days_are_not_similar(client, reader, workspace, incident):
    host = EntityFactory(workspace=workspace)
    alert_in(incident).entities.add(host)
    (old,) = old_incidents(workspace, 1, host)
    client.force_login(reader)
    html = similar_html(client, incident)
    assert f"#{old.number} " not in html
    assert "No similar incidents." in html


def test_incidents_sharing_more_but_out_of_the_window_do_not_crowd_out_similar_ones(
    client, reader, workspace, incident, monkeypatch
):
    # Checked against the window two at a time: the first two are both too old.
    monkeypatch.setattr("incidents.similar.CHUNK", 2)
    host = EntityFactory(workspace=workspace, kind="host", identifier="mb-winclient")
    account = EntityFactory(workspace=workspace, kind="account", identifier="bjenkins")
    alert_in(incident).entities.add(host, account)
    old = old_incidents(workspace, 3, host, account)
    recent = [incident_with_alerts(0, workspace=workspace, title=f"Recent {n}") for n in range(2)]
    for other in recent:
        alert_in(other).entities.add(host)
    client.force_login(reader)

    html = similar_html(client, incident)

    assert all(f"#{other.number} " not in html for other in old)
    assert all(f"#{other.number} " in html for other in recent)
    assert html.count("1 shared entity: mb-winclient") == 2


def test_similar_incidents_do_not_cross_workspaces(client, reader, workspace, incident):
    host = EntityFactory(workspace=workspace, identifier="shared-name")
    alert_in(incident).entities.add(host)
    foreign = incident_with_alerts(0, title="Multi-stage attack")
    alert_in(foreign).entities.add(
        EntityFactory(workspace=foreign.workspace, identifier="shared-name")
    )
    client.force_login(reader)
    assert "No similar incidents." in similar_html(client, incident)


def test_similar_incidents_cost_the_same_queries_however_many(
    client, reader, workspace, incident, django_assert_max_num_queries
):
    host = EntityFactory(workspace=workspace)
    alert_in(incident).entities.add(host)
    client.force_login(reader)
    similar_html(client, incident)
    with django_assert_max_num_queries(10) as few:
        similar_html(client, incident)
    for n in range(25):
        other = incident_with_alerts(0, workspace=workspace, title=f"Other {n}")
        alert_in(other).entities.add(host, EntityFactory(workspace=workspace))
    with django_assert_max_num_queries(10) as many:
        html = similar_html(client, incident)
    assert html.count("<li>") == 20  # at most twenty
    assert len(many.captured_queries) <= len(few.captured_queries) + 3


def test_similar_incidents_without_javascript_show_on_the_overview(
    client, reader, workspace, incident
):
    titled = incident_with_alerts(1, workspace=workspace, title="Multi-stage attack")
    client.force_login(reader)
    html = client.get(f"/incidents/{incident.number}/similar/").content.decode()
    assert "<title>#" in html
    assert 'id="summary-heading"' in html
    assert f"#{titled.number} Multi-stage attack" in html


def test_similar_incidents_of_another_workspace_are_not_found(client, outsider, incident):
    client.force_login(outsider)
    assert client.get(f"/incidents/{incident.number}/similar/").status_code == 404
