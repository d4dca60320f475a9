"""The alert page: /alerts/<system_alert_id>/."""

import uuid

import pytest

from incidents import actions, membership
from incidents.activity import Actor
from incidents.models import Classification, EntityKind
from tests.factories import INGESTION, EntityFactory, IncidentFactory, alert_in


def url(alert) -> str:
    return f"/alerts/{alert.system_alert_id}/"


def test_it_needs_login(client, workspace):
    alert = alert_in(IncidentFactory(workspace=workspace))
    assert client.get(url(alert)).status_code == 302


def test_an_alert_of_another_workspace_is_not_found(client, outsider, workspace):
    alert = alert_in(IncidentFactory(workspace=workspace))
    client.force_login(outsider)
    assert client.get(url(alert)).status_code == 404


def test_an_unknown_alert_is_not_found(client, reader):
    client.force_login(reader)
    assert client.get(f"/alerts/{uuid.uuid4()}/").status_code == 404


def test_it_shows_the_alerts_details_entities_and_incidents(client, responder, workspace):
    incident = IncidentFactory(workspace=workspace, title="Credential theft")
    alert = alert_in(
        incident,
        display_name="Suspicious sign-in",
        description="A sign-in from an unfamiliar location.",
        tactics=["InitialAccess"],
        product_name="Microsoft Entra ID Protection",
    )
    alert.entities.add(
        EntityFactory(workspace=workspace, kind=EntityKind.ACCOUNT, identifier="alice@contoso.com")
    )
    client.force_login(responder)
    html = client.get(url(alert)).content.decode()
    for text in (
        "Suspicious sign-in",
        "A sign-in from an unfamiliar location.",
        "InitialAccess",
        "Microsoft Entra ID Protection",
        "alice@contoso.com",
        f"#{incident.number} Credential theft",
        "Link alerts to another incident",
    ):
        assert text in html


def test_its_entities_open_the_entity_panel_of_its_open_incident(client, reader, workspace):
    closed = IncidentFactory(workspace=workspace)
    alert = alert_in(closed)
    actions.close_incident(
        closed, classification=Classification.UNDETERMINED, actor=Actor.for_user(reader)
    )
    investigating = IncidentFactory(workspace=workspace)
    membership.add_alerts(investigating, [alert], actor=INGESTION)
    host = EntityFactory(workspace=workspace, kind=EntityKind.HOST, identifier="ws-042")
    alert.entities.add(host)
    client.force_login(reader)
    html = client.get(url(alert)).content.decode()
    panel = f"/incidents/{investigating.number}/entities/{host.pk}/"
    assert f'<a href="{panel}">ws-042</a>' in html
    assert 'src="/static/img/kinds/host.svg"' in html
    assert client.get(panel).status_code == 200


def test_a_reader_does_not_get_the_link_button(client, reader, workspace):
    alert = alert_in(IncidentFactory(workspace=workspace))
    client.force_login(reader)
    assert b"Link alerts to another incident" not in client.get(url(alert)).content


@pytest.mark.parametrize("count", [1, 10])
def test_its_query_count_does_not_grow_with_incidents_or_entities(
    client, responder, workspace, count, django_assert_max_num_queries
):
    alert = alert_in(IncidentFactory(workspace=workspace))
    for i in range(count):
        membership.add_alerts(IncidentFactory(workspace=workspace), [alert], actor=INGESTION)
        alert.entities.add(EntityFactory(workspace=workspace, identifier=f"host-{i}"))
    client.force_login(responder)
    # Session, user, memberships; the alert; its entities; its incidents.
    with django_assert_max_num_queries(6):
        response = client.get(url(alert))
    assert response.content.decode().count('<li><a href="/incidents/') == count + 1
