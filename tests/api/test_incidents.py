"""Incidents, their alerts, entities and comments, as a Sentinel playbook reads them."""

import pytest

from incidents import actions, membership
from incidents.activity import Actor
from incidents.models import ActivityEntry, ActivityKind, Entity, EntityKind, IncidentStatus
from tests.api.conftest import error, insights
from tests.factories import BookmarkFactory, IncidentFactory, incident_with_alerts


@pytest.fixture
def incident(workspace, responder):
    incident = incident_with_alerts(
        2, workspace=workspace, title="Ransomware on FS01", labels=["ransomware"], owner=responder
    )
    for alert in incident.relations.all().select_related("alert"):
        host = Entity.objects.get_or_create(
            workspace=workspace, kind=EntityKind.HOST, identifier="fs01.contoso.com"
        )[0]
        alert.alert.entities.add(host)
    return incident


def test_an_incident_looks_like_sentinels(api, incident, workspace):
    body = api.get(f"incidents/{incident.uuid}").json()

    assert body["name"] == str(incident.uuid)
    assert body["id"] == f"{insights(workspace)}/incidents/{incident.uuid}"
    properties = body["properties"]
    assert properties["title"] == "Ransomware on FS01"
    assert properties["incidentNumber"] == incident.number
    assert properties["incidentUrl"] == f"http://testserver/incidents/{incident.number}/"
    assert properties["status"] == "New"
    assert properties["classification"] is None
    assert properties["owner"]["userPrincipalName"] == "responder"
    assert properties["labels"] == [{"labelName": "ransomware", "labelType": "User"}]
    assert properties["providerName"] == "Microsoft Sentinel"
    assert properties["mergedInto"] is None
    assert properties["mergedIncidentIds"] == []
    assert properties["additionalData"] == {
        "alertsCount": 2,
        "bookmarksCount": 0,
        "commentsCount": 0,
        "alertProductNames": ["Microsoft Sentinel"],
        "tactics": ["Execution"],
        "techniques": ["T1059"],
    }


def test_counts_follow_bookmarks_and_comments(api, incident, workspace, responder):
    actor = Actor.for_user(responder)
    membership.put_relation(incident, "bm", BookmarkFactory(workspace=workspace), actor=actor)
    actions.add_comment(incident, "Looking into it", actor=actor)

    data = api.get(f"incidents/{incident.uuid}").json()["properties"]["additionalData"]

    assert (data["bookmarksCount"], data["commentsCount"]) == (1, 1)


def test_closed_incidents_show_their_classification(api, incident, responder):
    actions.close_incident(
        incident,
        classification="FalsePositive",
        reason="IncorrectAlertLogic",
        comment="Rule too broad",
        actor=Actor.for_user(responder),
    )

    properties = api.get(f"incidents/{incident.uuid}").json()["properties"]

    assert properties["status"] == IncidentStatus.CLOSED
    assert properties["classification"] == "FalsePositive"
    assert properties["classificationReason"] == "IncorrectAlertLogic"
    assert properties["classificationComment"] == "Rule too broad"


def test_incidents_page_newest_first_and_filter_by_status(api, workspace):
    for _ in range(5):
        IncidentFactory(workspace=workspace)
    IncidentFactory(workspace=workspace, status=IncidentStatus.ACTIVE)

    first = api.get("incidents", **{"$top": 4}).json()
    second = api.get_url(first["nextLink"]).json()
    active = api.get("incidents", **{"$filter": "properties/status eq 'Active'"}).json()

    numbers = [i["properties"]["incidentNumber"] for i in first["value"] + second["value"]]
    assert numbers == sorted(numbers, reverse=True)
    assert len(numbers) == 6
    assert second["nextLink"] is None
    assert [i["properties"]["status"] for i in active["value"]] == ["Active"]


def test_listing_incidents_takes_a_constant_number_of_queries(
    api, workspace, django_assert_max_num_queries
):
    for count in (2, 20):
        for _ in range(count):
            incident_with_alerts(3, workspace=workspace)
        with django_assert_max_num_queries(8):
            assert api.get("incidents", **{"$top": 1000}).status_code == 200


def test_alerts_lists_the_incidents_alerts_as_security_alerts(api, incident, workspace):
    body = api.post(f"incidents/{incident.uuid}/alerts").json()

    assert len(body["value"]) == 2
    alert = body["value"][0]
    assert alert["kind"] == "SecurityAlert"
    assert alert["id"] == f"{insights(workspace)}/entities/{alert['name']}"
    assert alert["properties"]["systemAlertId"] == alert["name"]
    assert alert["properties"]["tactics"] == ["Execution"]


def test_entities_lists_each_entity_once_with_counts_by_kind(api, incident):
    body = api.post(f"incidents/{incident.uuid}/entities").json()

    assert [e["kind"] for e in body["entities"]] == ["Host"]
    assert body["entities"][0]["properties"]["friendlyName"] == "fs01.contoso.com"
    assert body["metaData"] == [{"entityKind": "Host", "count": 1, "entityFriendlyName": "Host"}]


def test_a_comment_put_is_written_to_the_activity_log(api, incident):
    response = api.put(
        f"incidents/{incident.uuid}/comments/first-note", {"properties": {"message": "Contained"}}
    )

    assert response.status_code == 201
    assert response.json()["properties"]["message"] == "Contained"
    assert response.json()["properties"]["author"]["userPrincipalName"] == "responder"
    entry = ActivityEntry.objects.get(incident=incident, kind=ActivityKind.COMMENT)
    assert (entry.comment, entry.via) == ("Contained", "api")


def test_putting_the_same_comment_again_changes_nothing(api, incident):
    path = f"incidents/{incident.uuid}/comments/first-note"
    api.put(path, {"properties": {"message": "Contained"}})

    again = api.put(path, {"properties": {"message": "Contained"}})

    assert again.status_code == 200
    assert incident.activity.filter(kind=ActivityKind.COMMENT).count() == 1


def test_comments_cannot_be_edited(api, incident):
    path = f"incidents/{incident.uuid}/comments/first-note"
    api.put(path, {"properties": {"message": "Contained"}})

    status, code, message = error(api.put(path, {"properties": {"message": "Edited"}}))

    assert (status, code) == (409, "Conflict")
    assert "append-only" in message


def test_a_comment_needs_a_message(api, incident):
    status, _, message = error(
        api.put(f"incidents/{incident.uuid}/comments/c1", {"properties": {"message": " "}})
    )

    assert status == 400
    assert "properties.message" in message


def test_comments_are_listed_newest_first_and_fetched_by_id(api, incident):
    for i in range(3):
        api.put(f"incidents/{incident.uuid}/comments/c{i}", {"properties": {"message": f"n{i}"}})

    listed = api.get(f"incidents/{incident.uuid}/comments").json()["value"]
    one = api.get(f"incidents/{incident.uuid}/comments/c1").json()

    assert [c["name"] for c in listed] == ["c2", "c1", "c0"]
    assert one["properties"]["message"] == "n1"
    assert api.get(f"incidents/{incident.uuid}/comments/nope").status_code == 404
