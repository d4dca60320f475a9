"""PUT/GET/DELETE incidents/{incidentId}/relations/{relationName}: Sentinel's error table."""

import uuid

import pytest

from incidents.models import ActivityEntry, ActivityKind, Relation
from tests.api.conftest import alert_id, error, insights
from tests.factories import (
    AlertFactory,
    BookmarkFactory,
    IncidentFactory,
    MembershipFactory,
    WorkspaceFactory,
    alert_in,
    incident_with_alerts,
)

DEFENDER = "Microsoft Defender XDR"


@pytest.fixture
def incident(workspace):
    return incident_with_alerts(2, workspace=workspace)


@pytest.fixture
def loose_alert(workspace):
    """An alert that sits in another incident of the workspace."""
    return alert_in(IncidentFactory(workspace=workspace))


def snapshot():
    return (
        sorted(
            Relation.objects.values_list("incident_id", "alert_id", "bookmark_id", "name"), key=str
        ),
        ActivityEntry.objects.count(),
    )


def test_put_creates_the_relation_and_answers_201(api, incident, loose_alert):
    response = api.relate(incident, "rel-1", loose_alert)

    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "rel-1"
    assert body["type"] == "Microsoft.SecurityInsights/incidents/relations"
    assert body["id"] == (f"{insights(api.workspace)}/incidents/{incident.uuid}/relations/rel-1")
    assert body["etag"]
    assert body["properties"] == {
        "relatedResourceId": alert_id(loose_alert),
        "relatedResourceName": str(loose_alert.system_alert_id),
        "relatedResourceType": "Microsoft.SecurityInsights/entities",
        "relatedResourceKind": "SecurityAlert",
    }
    assert Relation.objects.filter(incident=incident, alert=loose_alert, name="rel-1").exists()
    incident.refresh_from_db()
    assert incident.alert_count == 3


def test_put_writes_activity_by_the_token_user_marked_as_api(api, incident, loose_alert):
    api.relate(incident, "rel-1", loose_alert)

    entry = incident.activity.get(kind=ActivityKind.ALERT_ADDED)
    assert entry.actor.username == "responder"
    assert entry.via == "api"
    assert "correlated with this incident by responder (API)" in entry.message


def test_put_of_the_same_relation_again_answers_200_and_changes_nothing(api, incident, loose_alert):
    first = api.relate(incident, "rel-1", loose_alert)
    before = snapshot()

    again = api.relate(incident, "rel-1", loose_alert)

    assert again.status_code == 200
    assert again.json() == first.json()
    assert snapshot() == before


def test_put_of_a_name_used_for_another_alert_is_a_409(api, incident, loose_alert, workspace):
    other = alert_in(IncidentFactory(workspace=workspace))
    api.relate(incident, "rel-1", loose_alert)
    before = snapshot()

    response = api.relate(incident, "rel-1", other)

    assert error(response) == (
        409,
        "Conflict",
        f"Failed to create relation. Relation with name rel-1 already exists in incident "
        f"{incident.uuid} to different alert {loose_alert.system_alert_id}.",
    )
    assert snapshot() == before


def test_put_of_an_alert_over_a_bookmark_relation_is_a_different_relation_type(
    api, incident, loose_alert, workspace
):
    bookmark = BookmarkFactory(workspace=workspace)
    body = {
        "properties": {
            "relatedResourceId": f"{insights(workspace)}/bookmarks/{bookmark.bookmark_id}"
        }
    }
    assert api.put(f"incidents/{incident.uuid}/relations/evidence", body).status_code == 201
    before = snapshot()

    response = api.relate(incident, "evidence", loose_alert)

    assert error(response) == (
        400,
        "BadRequest",
        f"Failed to create relation. Different relation type with name evidence already "
        f"exists in incident {incident.uuid}.",
    )
    assert snapshot() == before


def test_put_of_a_name_used_for_another_bookmark_is_a_409(api, incident, workspace):
    first, second = BookmarkFactory.create_batch(2, workspace=workspace)

    def relate(bookmark):
        resource = f"{insights(workspace)}/bookmarks/{bookmark.bookmark_id}"
        body = {"properties": {"relatedResourceId": resource}}
        return api.put(f"incidents/{incident.uuid}/relations/evidence", body)

    assert relate(first).status_code == 201
    assert error(relate(second)) == (
        409,
        "Conflict",
        f"Failed to create relation. Relation with name evidence already exists in incident "
        f"{incident.uuid} to different bookmark {first.bookmark_id}.",
    )


def test_bookmark_relations_have_the_bookmark_type(api, incident, workspace):
    bookmark = BookmarkFactory(workspace=workspace)
    body = {
        "properties": {
            "relatedResourceId": f"{insights(workspace)}/bookmarks/{bookmark.bookmark_id}"
        }
    }

    response = api.put(f"incidents/{incident.uuid}/relations/evidence", body)

    assert response.status_code == 201
    assert response.json()["properties"]["relatedResourceType"] == (
        "Microsoft.SecurityInsights/bookmarks"
    )
    assert incident.activity.filter(kind=ActivityKind.BOOKMARK_ADDED).count() == 1


def test_put_of_an_alert_already_in_the_incident_is_refused(api, incident):
    alert = incident.relations.first().alert
    before = snapshot()

    response = api.relate(incident, "another-name", alert)

    assert error(response) == (
        400,
        "BadRequest",
        f"Failed to create relation. Alert {alert.system_alert_id} already exists in incident "
        f"{incident.uuid}.",
    )
    assert snapshot() == before


def test_put_of_an_alert_of_another_workspace_is_refused(api, incident, responder):
    elsewhere = WorkspaceFactory(name="branch-office")
    MembershipFactory(workspace=elsewhere, user=responder)
    foreign = alert_in(IncidentFactory(workspace=elsewhere))
    before = snapshot()

    response = api.relate(incident, "rel-1", foreign)

    assert error(response) == (
        400,
        "BadRequest",
        "Failed to create relation. Related resource and incident should belong to the same "
        "workspace.",
    )
    assert snapshot() == before


def test_an_alert_of_a_workspace_the_caller_cannot_see_does_not_exist(api, incident):
    foreign = alert_in(IncidentFactory(workspace=WorkspaceFactory(name="secret")))

    response = api.relate(incident, "rel-1", foreign)

    assert error(response) == (
        404,
        "NotFound",
        f"Resource '{foreign.system_alert_id}' does not exist.",
    )


def test_defender_alerts_cannot_be_added_to_defender_incidents(api, workspace):
    defender_incident = incident_with_alerts(1, workspace=workspace, provider_name=DEFENDER)
    alert = alert_in(IncidentFactory(workspace=workspace), provider_name=DEFENDER)
    before = snapshot()

    response = api.relate(defender_incident, "rel-1", alert)

    assert error(response) == (
        400,
        "BadRequest",
        "Failed to create relation. Microsoft Defender XDR alerts cannot be added to Microsoft "
        "Defender XDR incidents.",
    )
    assert snapshot() == before


def test_defender_alerts_can_be_added_to_other_incidents(api, incident, workspace):
    alert = alert_in(
        IncidentFactory(workspace=workspace, provider_name=DEFENDER), provider_name=DEFENDER
    )

    assert api.relate(incident, "rel-1", alert).status_code == 201


def test_defender_alerts_cannot_be_removed_from_defender_incidents(api, workspace):
    defender_incident = IncidentFactory(workspace=workspace, provider_name=DEFENDER)
    alert = alert_in(defender_incident, provider_name=DEFENDER)
    alert_in_also = incident_with_alerts(1, workspace=workspace)
    api.relate(alert_in_also, "keep", alert)
    name = defender_incident.relations.get(alert=alert).name
    before = snapshot()

    response = api.delete(f"incidents/{defender_incident.uuid}/relations/{name}")

    assert error(response) == (
        400,
        "BadRequest",
        "Failed to delete relation. Microsoft Defender XDR alerts cannot be removed from "
        "Microsoft Defender XDR incidents.",
    )
    assert snapshot() == before


def test_put_of_an_unknown_alert_is_a_404_naming_it(api, incident):
    missing = uuid.uuid4()
    body = {"properties": {"relatedResourceId": f"{insights(api.workspace)}/entities/{missing}"}}

    response = api.put(f"incidents/{incident.uuid}/relations/rel-1", body)

    assert error(response) == (404, "NotFound", f"Resource '{missing}' does not exist.")


def test_relations_of_an_unknown_incident_are_a_404(api, loose_alert):
    for response in (
        api.put(
            f"incidents/{uuid.uuid4()}/relations/rel-1",
            {"properties": {"relatedResourceId": alert_id(loose_alert)}},
        ),
        api.get(f"incidents/{uuid.uuid4()}/relations/rel-1"),
        api.delete(f"incidents/{uuid.uuid4()}/relations/rel-1"),
        api.get(f"incidents/{uuid.uuid4()}/relations"),
    ):
        assert error(response) == (404, "NotFound", "Incident doesn’t exist.")


def test_an_incident_of_another_workspace_does_not_exist_here(api, loose_alert):
    foreign = incident_with_alerts(1, workspace=WorkspaceFactory(name="elsewhere-ws"))

    response = api.relate(foreign, "rel-1", loose_alert)

    assert error(response) == (404, "NotFound", "Incident doesn’t exist.")


def test_put_past_the_cap_is_refused_in_plain_words(api, workspace, loose_alert, settings):
    settings.TRIAGE_MAX_ALERTS_PER_INCIDENT = 150
    full = incident_with_alerts(150, workspace=workspace)
    before = snapshot()

    status, code, message = error(api.relate(full, "rel-1", loose_alert))

    assert (status, code) == (400, "BadRequest")
    assert message.startswith("Failed to create relation.")
    assert "at most 150 alerts" in message
    assert snapshot() == before


def test_delete_removes_the_relation_and_answers_200(api, incident, loose_alert):
    api.relate(incident, "rel-1", loose_alert)

    response = api.delete(f"incidents/{incident.uuid}/relations/rel-1")

    assert response.status_code == 200
    assert not Relation.objects.filter(incident=incident, alert=loose_alert).exists()
    entry = incident.activity.get(kind=ActivityKind.ALERT_REMOVED)
    assert "removed from this incident by responder (API)" in entry.message


def test_delete_of_nothing_answers_204(api, incident):
    assert api.delete(f"incidents/{incident.uuid}/relations/never-made").status_code == 204


def test_delete_of_an_alerts_last_incident_is_refused(api, incident):
    relation = incident.relations.first()
    before = snapshot()

    status, code, message = error(
        api.delete(f"incidents/{incident.uuid}/relations/{relation.name}")
    )

    assert (status, code) == (400, "BadRequest")
    assert message.startswith("Failed to delete relation.")
    assert "link it to another incident" in message
    assert snapshot() == before


def test_get_returns_the_relation_or_404(api, incident, loose_alert):
    api.relate(incident, "rel-1", loose_alert)

    assert api.get(f"incidents/{incident.uuid}/relations/rel-1").json()["name"] == "rel-1"
    assert error(api.get(f"incidents/{incident.uuid}/relations/nope")) == (
        404,
        "NotFound",
        f"Relation 'nope' does not exist in incident {incident.uuid}.",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "properties"),
        ([], "properties"),
        ({"properties": "x"}, "properties"),
        ({"properties": {}}, "properties.relatedResourceId"),
        ({"properties": {"relatedResourceId": 7}}, "properties.relatedResourceId"),
        ({"properties": {"relatedResourceId": "/not/an/id"}}, "properties.relatedResourceId"),
    ],
)
def test_a_malformed_body_is_a_400_naming_the_field(api, incident, body, field):
    before = snapshot()

    status, code, message = error(api.put(f"incidents/{incident.uuid}/relations/rel-1", body))

    assert (status, code) == (400, "BadRequest")
    assert field in message
    assert snapshot() == before


def test_a_body_that_is_not_json_is_a_400(api, incident):
    response = api.client.put(
        api.url(f"incidents/{incident.uuid}/relations/rel-1"),
        "{not json",
        content_type="application/json",
        **api.headers(),
    )

    assert error(response)[0:2] == (400, "BadRequest")


def test_a_malformed_incident_id_is_a_400_naming_it(api):
    status, _, message = error(api.get("incidents/not-a-guid/relations"))

    assert status == 400
    assert "incidentId 'not-a-guid'" in message


def test_a_malformed_relation_name_is_a_400_naming_it(api, incident, loose_alert):
    status, _, message = error(api.relate(incident, "bad name!", loose_alert))

    assert status == 400
    assert "relationName" in message


def test_put_takes_a_constant_number_of_queries(api, workspace, django_assert_max_num_queries):
    small = incident_with_alerts(1, workspace=workspace)
    big = incident_with_alerts(100, workspace=workspace)
    alerts = [alert_in(IncidentFactory(workspace=workspace)) for _ in range(2)]

    for incident, alert in ((small, alerts[0]), (big, alerts[1])):
        with django_assert_max_num_queries(27):
            assert api.relate(incident, "rel-1", alert).status_code == 201


def test_alert_from_put_shows_among_the_incidents_alerts(api, incident, loose_alert):
    api.relate(incident, "rel-1", loose_alert)

    names = [a["name"] for a in api.post(f"incidents/{incident.uuid}/alerts").json()["value"]]

    assert str(loose_alert.system_alert_id) in names


def test_unused_alert_factory_alerts_are_not_visible_as_relations(api, incident, workspace):
    AlertFactory(workspace=workspace)

    assert len(api.get(f"incidents/{incident.uuid}/relations").json()["value"]) == 2
