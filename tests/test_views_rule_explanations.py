"""“Why is this here?”: the alert page and the incident's Alerts tab say, beside each
alert, why it is in that incident."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents import membership
from incidents.activity import Actor
from incidents.ingest.store import ingest_batch, prepare
from incidents.models import Alert, Incident, Relation, Role
from incidents.rules.defaults import install_default_rules
from tests.factories import (
    INGESTION,
    AlertFactory,
    IncidentFactory,
    MembershipFactory,
    UserFactory,
    alert_in,
)
from tests.ingest.builders import defender_row, row

RULE = "Same user, host or mailbox (24 h)"
MATCHED = "same account bjenkins@niseko.example, same host ws-bjenkins-01.niseko.example"


@pytest.fixture
def alice(workspace):
    user = UserFactory(username="alice")
    MembershipFactory(workspace=workspace, user=user, role=Role.CONTRIBUTOR)
    return user


def ingest(workspace, *rows) -> list[Alert]:
    ingest_batch(workspace, [prepare(r) for r in rows], actor=INGESTION)
    ids = [r["SystemAlertId"] for r in rows]
    return sorted(Alert.objects.filter(system_alert_id__in=ids), key=lambda a: a.pk)


def incident_of(alert: Alert) -> Incident:
    return Incident.objects.get(relations__alert=alert)


def alert_page(client, alert) -> str:
    return client.get(f"/alerts/{alert.system_alert_id}/").content.decode()


def alerts_tab(client, incident) -> str:
    return client.get(f"/incidents/{incident.number}/alerts/").content.decode()


def rule_link(name: str, rule_id: int) -> str:
    return f'<a href="/rules/{rule_id}/">{name}</a>'


def test_alerts_a_rule_grouped_name_the_rule_and_the_matched_values(client, reader, workspace):
    rules = install_default_rules(workspace)
    first, second = ingest(workspace, row(), row())
    incident = incident_of(first)
    assert incident_of(second) == incident
    client.force_login(reader)

    expected = f"Rule “{rule_link(RULE, rules[0].pk)}”: {MATCHED}"
    assert alerts_tab(client, incident).count(expected) == 2
    assert expected in alert_page(client, second)


def test_an_alert_no_rule_took_says_so(client, reader, workspace):
    install_default_rules(workspace)
    (alert,) = ingest(workspace, row(entities=[]))
    client.force_login(reader)

    assert "No rule matched" in alert_page(client, alert)
    assert "No rule matched" in alerts_tab(client, incident_of(alert))


def test_a_provider_alert_names_the_providers_incident(client, reader, workspace):
    (alert,) = ingest(workspace, defender_row(384))
    client.force_login(reader)

    assert "Defender XDR incident 384" in alert_page(client, alert)
    assert "Defender XDR incident 384" in alerts_tab(client, incident_of(alert))


def test_an_alert_an_analyst_added_names_them_and_their_comment(client, alice, workspace):
    incident = IncidentFactory(workspace=workspace)
    alert = AlertFactory(workspace=workspace)
    membership.add_alerts(
        incident, [alert], actor=Actor.for_user(alice), comment="Same phishing wave."
    )
    client.force_login(alice)

    assert "Added by alice: Same phishing wave." in alerts_tab(client, incident)
    assert "Added by alice: Same phishing wave." in alert_page(client, alert)


def test_a_moved_alert_names_where_it_came_from_and_who_moved_it(client, alice, workspace):
    source = IncidentFactory(workspace=workspace)
    target = IncidentFactory(workspace=workspace)
    alert = alert_in(source)
    alert_in(source)
    membership.move_alerts(
        [alert], destination=target, source=source, actor=Actor.for_user(alice), comment=""
    )
    client.force_login(alice)

    assert f"Moved from #{source.number} by alice" in alerts_tab(client, target)
    assert f"Moved from #{source.number} by alice" in alert_page(client, alert)


def test_a_merged_alert_names_the_incident_it_came_from_and_why_it_was_there(
    client, alice, workspace
):
    rules = install_default_rules(workspace)
    first, _ = ingest(workspace, row(), row())
    source = incident_of(first)
    target = IncidentFactory(workspace=workspace)
    alert_in(target)
    membership.merge_incidents(
        [source], into=target, actor=Actor.for_user(alice), reason="One attack."
    )
    client.force_login(alice)

    html = alerts_tab(client, target)
    assert html.count(f"Merged from #{source.number}") == 2
    assert f"before: rule “{rule_link(RULE, rules[0].pk)}”: {MATCHED}" in html


def test_an_alert_created_with_its_incident_says_so(client, reader, workspace):
    alert = alert_in(IncidentFactory(workspace=workspace))
    client.force_login(reader)

    assert "Created with the incident" in alert_page(client, alert)


def test_the_alert_page_gives_the_reason_of_each_of_its_incidents(client, alice, workspace):
    install_default_rules(workspace)
    (alert,) = ingest(workspace, row(entities=[]))
    other = IncidentFactory(workspace=workspace)
    membership.add_alerts(other, [alert], actor=Actor.for_user(alice), comment="Also here.")
    client.force_login(alice)

    html = alert_page(client, alert)
    assert "No rule matched" in html
    assert "Added by alice: Also here." in html


def test_the_alerts_tabs_queries_do_not_grow_with_its_alerts(client, reader, workspace):
    install_default_rules(workspace)
    small = incident_of(ingest(workspace, row(), row())[0])
    big = incident_of(
        ingest(workspace, *(row(entities=[], DisplayName="Storm") for _ in range(2)))[0]
    )
    # Every reason at once in the big incident: rule, no rule, provider, analyst, move.
    alice = UserFactory(username="alice")
    MembershipFactory(workspace=workspace, user=alice, role=Role.CONTRIBUTOR)
    extra = ingest(workspace, row(), row(entities=[]), defender_row(7), row(), row())
    membership.add_alerts(big, extra[:3], actor=Actor.for_user(alice), comment="Same wave.")
    membership.move_alerts(extra[3:], destination=big, actor=Actor.for_user(alice))
    assert (
        Relation.objects.filter(incident=big).count()
        > Relation.objects.filter(incident=small).count()
    )
    client.force_login(reader)

    def queries(incident) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/incidents/{incident.number}/alerts/").status_code == 200
        return len(captured)

    assert queries(big) == queries(small)
