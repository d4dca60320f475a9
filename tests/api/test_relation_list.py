"""GET incidents/{incidentId}/relations: paging, ordering, filtering, query counts."""

import pytest

from incidents import membership
from incidents.activity import Actor
from incidents.models import Incident, Via
from tests.api.conftest import error, insights
from tests.factories import AlertFactory, BookmarkFactory, incident_with_alerts


@pytest.fixture
def big_incident(workspace, responder, settings):
    """An incident with 250 alerts and 50 bookmarks: 300 relations."""
    settings.TRIAGE_MAX_ALERTS_PER_INCIDENT = 300
    incident = incident_with_alerts(250, workspace=workspace)
    actor = Actor.for_user(responder, via=Via.API)
    for i, bookmark in enumerate(BookmarkFactory.create_batch(50, workspace=workspace)):
        membership.put_relation(incident, f"bookmark-{i:02}", bookmark, actor=actor)
    return incident


def test_paging_through_300_relations_50_at_a_time_sees_each_once(api, big_incident):
    names, pages = [], 0
    response = api.get(f"incidents/{big_incident.uuid}/relations", **{"$top": 50})
    while True:
        assert response.status_code == 200
        body = response.json()
        assert len(body["value"]) <= 50
        names += [r["name"] for r in body["value"]]
        pages += 1
        if not body["nextLink"]:
            break
        assert "api-version=" in body["nextLink"]
        response = api.get_url(body["nextLink"])

    assert pages == 6
    assert len(names) == len(set(names)) == 300
    assert set(names) == set(big_incident.relations.values_list("name", flat=True))


def test_the_last_page_has_no_next_link(api, workspace):
    incident = incident_with_alerts(3, workspace=workspace)

    body = api.get(f"incidents/{incident.uuid}/relations", **{"$top": 3}).json()

    assert len(body["value"]) == 3
    assert body["nextLink"] is None


def test_relations_can_be_ordered_by_name_descending(api, big_incident):
    body = api.get(
        f"incidents/{big_incident.uuid}/relations", **{"$orderby": "name desc", "$top": 1000}
    ).json()

    names = [r["name"] for r in body["value"]]
    assert names == sorted(names, reverse=True)


def test_ordering_by_name_pages_consistently(api, big_incident):
    first = api.get(
        f"incidents/{big_incident.uuid}/relations", **{"$orderby": "name", "$top": 40}
    ).json()
    second = api.get_url(first["nextLink"]).json()

    names = [r["name"] for r in first["value"] + second["value"]]
    assert names == sorted(names)
    assert len(set(names)) == 80


def test_relations_can_be_filtered_by_related_resource_type(api, big_incident):
    bookmarks = api.get(
        f"incidents/{big_incident.uuid}/relations",
        **{
            "$filter": "properties/relatedResourceType eq 'Microsoft.SecurityInsights/bookmarks'",
            "$top": 1000,
        },
    ).json()["value"]

    assert len(bookmarks) == 50
    assert {r["properties"]["relatedResourceType"] for r in bookmarks} == {
        "Microsoft.SecurityInsights/bookmarks"
    }


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"$top": "0"}, "$top"),
        ({"$top": "abc"}, "$top"),
        ({"$top": "1001"}, "$top"),
        ({"$top": "²"}, "$top"),
        ({"$top": "1" * 5000}, "$top"),
        ({"$skipToken": "garbage!!"}, "$skipToken"),
        ({"$orderby": "properties/severity"}, "$orderby"),
        ({"$filter": "name eq 'x'"}, "$filter"),
        ({"$filter": "properties/relatedResourceType eq 'nonsense'"}, "relatedResourceType"),
    ],
)
def test_bad_query_options_are_a_400_naming_the_option(api, workspace, params, words):
    incident = incident_with_alerts(1, workspace=workspace)

    status, code, message = error(api.get(f"incidents/{incident.uuid}/relations", **params))

    assert (status, code) == (400, "BadRequest")
    assert words in message


def test_listing_150_relations_takes_as_many_queries_as_listing_3(
    api, workspace, django_assert_max_num_queries
):
    for size in (3, 150):
        incident = incident_with_alerts(size, workspace=workspace)
        with django_assert_max_num_queries(5):
            body = api.get(f"incidents/{incident.uuid}/relations", **{"$top": 1000}).json()
        assert len(body["value"]) == size


def test_relation_ids_point_into_the_workspace(api, workspace):
    incident = incident_with_alerts(1, workspace=workspace)

    (relation,) = api.get(f"incidents/{incident.uuid}/relations").json()["value"]

    assert relation["properties"]["relatedResourceId"].startswith(insights(workspace))
    assert relation["id"].startswith(f"{insights(workspace)}/incidents/{incident.uuid}/")


def test_unrelated_alerts_are_not_listed(api, workspace):
    incident = incident_with_alerts(2, workspace=workspace)
    AlertFactory(workspace=workspace)

    assert len(api.get(f"incidents/{incident.uuid}/relations").json()["value"]) == 2
    assert Incident.objects.count() == 1
