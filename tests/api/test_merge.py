"""POST incidents/{incidentId}/merge: Triage's merge, where playbooks expect extensions."""

import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from incidents import membership
from incidents.activity import Actor
from incidents.api.tokens import create_token
from incidents.models import (
    ActivityKind,
    IncidentStatus,
    MembershipChange,
    TokenScope,
)
from tests.api.conftest import Api, error, insights
from tests.factories import (
    DEFENDER,
    IncidentFactory,
    MembershipFactory,
    WorkspaceFactory,
    alert_ids_of,
    incident_with_alerts,
    snapshot,
)

REASON = "Same phishing campaign"


@pytest.fixture
def target(workspace):
    return incident_with_alerts(2, workspace=workspace, labels=["phishing"])


@pytest.fixture
def sources(workspace):
    return [
        incident_with_alerts(1, workspace=workspace, severity="High", labels=["vip"]),
        incident_with_alerts(3, workspace=workspace),
    ]


def merge(api: Api, target, body, **params):
    return api.client.post(
        api.url(f"incidents/{getattr(target, 'uuid', target)}/merge", **params),
        body,
        content_type="application/json",
        **api.headers(),
    )


def body(*incidents, reason=REASON) -> dict:
    return {"properties": {"sourceIncidentIds": [str(i.uuid) for i in incidents], "reason": reason}}


def resource_id(incident) -> str:
    return f"{insights(incident.workspace)}/incidents/{incident.uuid}"


def changed():
    return snapshot(), MembershipChange.objects.count()


def test_merge_answers_200_with_the_target_as_get_returns_it(api, target, sources):
    response = merge(api, target, body(*sources))

    assert response.status_code == 200
    assert response.json() == api.get(f"incidents/{target.uuid}").json()
    properties = response.json()["properties"]
    assert properties["mergedIncidentIds"] == [resource_id(s) for s in sources]
    assert properties["mergedInto"] is None
    assert properties["additionalData"]["alertsCount"] == 6
    assert properties["severity"] == "High"
    assert {label["labelName"] for label in properties["labels"]} == {"phishing", "vip"}


def test_every_alert_of_the_sources_joins_the_target(api, target, sources):
    expected = alert_ids_of(target) | alert_ids_of(sources[0]) | alert_ids_of(sources[1])

    merge(api, target, body(*sources))

    assert alert_ids_of(target) == expected


def test_a_source_still_answers_closed_merged_and_pointing_at_the_target(api, target, sources):
    merge(api, target, body(*sources))

    for source in sources:
        response = api.get(f"incidents/{source.uuid}")
        assert response.status_code == 200
        properties = response.json()["properties"]
        assert properties["status"] == IncidentStatus.CLOSED
        assert properties["classification"] == "Undetermined"
        assert "Merged" in [label["labelName"] for label in properties["labels"]]
        assert properties["mergedInto"] == resource_id(target)
        assert properties["mergedIncidentIds"] == []


def test_the_incident_list_shows_the_merge_links_too(api, target, sources):
    merge(api, target, body(*sources))

    listed = {i["name"]: i["properties"] for i in api.get("incidents").json()["value"]}

    assert listed[str(target.uuid)]["mergedIncidentIds"] == [resource_id(s) for s in sources]
    assert listed[str(sources[0].uuid)]["mergedInto"] == resource_id(target)


def test_merge_writes_activity_by_the_token_user_marked_as_api_with_the_reason(
    api, target, sources
):
    merge(api, target, body(*sources))

    entries = target.activity.filter(kind=ActivityKind.MERGED_IN)
    assert entries.count() == 2
    for entry in entries:
        assert entry.actor.username == "responder"
        assert entry.via == "api"
        assert entry.comment == REASON
    gone = sources[0].activity.get(kind=ActivityKind.MERGED_INTO)
    assert f"into #{target.number}" in gone.message


def test_sources_may_be_named_by_their_resource_ids(api, target, sources):
    ids = {"sourceIncidentIds": [resource_id(s) for s in sources], "reason": REASON}

    response = merge(api, target, {"properties": ids})

    assert response.status_code == 200
    assert response.json()["properties"]["mergedIncidentIds"] == [resource_id(s) for s in sources]


def test_a_source_named_twice_is_merged_once(api, target, sources):
    ids = [str(sources[0].uuid), resource_id(sources[0])]

    response = merge(api, target, {"properties": {"sourceIncidentIds": ids, "reason": REASON}})

    assert response.status_code == 200
    assert target.activity.filter(kind=ActivityKind.MERGED_IN).count() == 1


def test_the_same_request_again_is_refused_and_changes_nothing(api, target, sources):
    assert merge(api, target, body(*sources)).status_code == 200
    before = changed()

    response = merge(api, target, body(*sources))

    assert error(response) == (
        400,
        "BadRequest",
        f"Incident #{sources[0].number} was already merged into #{target.number}; "
        f"use #{target.number} instead.",
    )
    assert changed() == before


def test_an_undone_merge_clears_the_links(api, target, sources, responder):
    merge(api, target, body(*sources))
    change = MembershipChange.objects.get()

    membership.undo_change(change, actor=Actor.for_user(responder))

    assert api.get(f"incidents/{target.uuid}").json()["properties"]["mergedIncidentIds"] == []
    assert api.get(f"incidents/{sources[0].uuid}").json()["properties"]["mergedInto"] is None


# --- who may merge -------------------------------------------------------------


def test_a_reader_may_not_merge(reader_api, target, sources):
    before = changed()

    response = merge(reader_api, target, body(*sources))

    assert error(response) == (
        403,
        "AuthorizationFailed",
        "Your role in workspace 'soc' is reader; this request needs responder or higher.",
    )
    assert changed() == before


def test_an_ingestion_token_may_not_merge(responder, workspace, target, sources):
    _, raw = create_token(responder, workspace=workspace, scope=TokenScope.INGEST)
    before = changed()

    status, code, message = error(merge(Api(Client(), raw, workspace), target, body(*sources)))

    assert (status, code) == (403, "AuthorizationFailed")
    assert "made for ingestion" in message
    assert changed() == before


def test_an_outsiders_token_finds_no_workspace(outsider, workspace, target, sources):
    _, raw = create_token(outsider)
    before = changed()

    status, code, message = error(merge(Api(Client(), raw, workspace), target, body(*sources)))

    assert (status, code) == (404, "NotFound")
    assert "Workspace 'soc' was not found" in message
    assert changed() == before


def test_the_api_version_is_required(api, target, sources):
    status, code, _ = error(merge(api, target, body(*sources), version=None))

    assert (status, code) == (400, "MissingApiVersionParameter")


def test_only_post_is_allowed(api, target):
    assert error(api.get(f"incidents/{target.uuid}/merge"))[0:2] == (405, "MethodNotAllowed")


# --- the target in the path ----------------------------------------------------


def test_an_unknown_target_is_a_404(api, sources):
    assert error(merge(api, uuid.uuid4(), body(*sources))) == (
        404,
        "NotFound",
        "Incident doesn’t exist.",
    )


def test_a_target_of_another_workspace_does_not_exist_here(api, sources):
    foreign = incident_with_alerts(1, workspace=WorkspaceFactory(name="elsewhere-ws"))

    assert error(merge(api, foreign, body(*sources)))[0:2] == (404, "NotFound")


def test_a_malformed_target_id_is_a_400_naming_it(api, sources):
    status, _, message = error(merge(api, "not-a-guid", body(*sources)))

    assert status == 400
    assert "incidentId 'not-a-guid'" in message


# --- the body ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("properties", "field"),
    [
        ({"reason": REASON}, "properties.sourceIncidentIds is required"),
        ({"sourceIncidentIds": [], "reason": REASON}, "properties.sourceIncidentIds is required"),
        ({"sourceIncidentIds": "abc", "reason": REASON}, "properties.sourceIncidentIds is req"),
        ({"sourceIncidentIds": [7], "reason": REASON}, "properties.sourceIncidentIds[0]"),
        ({"sourceIncidentIds": ["nope"], "reason": REASON}, "properties.sourceIncidentIds[0]"),
        ({"sourceIncidentIds": ["SOURCE"]}, "properties.reason is required"),
        ({"sourceIncidentIds": ["SOURCE"], "reason": "  "}, "properties.reason is required"),
        ({"sourceIncidentIds": ["SOURCE"], "reason": 7}, "properties.reason is required"),
    ],
)
def test_a_malformed_body_is_a_400_naming_the_field(api, target, sources, properties, field):
    ids = properties.get("sourceIncidentIds")
    if isinstance(ids, list):
        properties["sourceIncidentIds"] = [
            str(sources[0].uuid) if i == "SOURCE" else i for i in ids
        ]
    before = changed()

    status, code, message = error(merge(api, target, {"properties": properties}))

    assert (status, code) == (400, "BadRequest")
    assert field in message
    assert changed() == before


@pytest.mark.parametrize("payload", [{}, [], {"properties": "x"}, "{not json"])
def test_a_body_that_is_not_a_json_object_with_properties_is_a_400(api, target, payload):
    before = changed()

    status, code, _ = error(merge(api, target, payload))

    assert (status, code) == (400, "BadRequest")
    assert changed() == before


def test_more_than_ten_sources_are_refused(api, target, workspace):
    many = [IncidentFactory(workspace=workspace) for _ in range(11)]
    before = changed()

    assert error(merge(api, target, body(*many))) == (
        400,
        "BadRequest",
        "properties.sourceIncidentIds lists 11 incidents; at most 10 can be merged into "
        "another at once.",
    )
    assert changed() == before


def test_unknown_sources_are_a_404_naming_them(api, target, sources):
    missing = str(uuid.uuid4())
    ids = [str(sources[0].uuid), missing]
    before = changed()

    response = merge(api, target, {"properties": {"sourceIncidentIds": ids, "reason": REASON}})

    assert error(response) == (
        404,
        "NotFound",
        f"Incident doesn’t exist: '{missing}' (properties.sourceIncidentIds).",
    )
    assert changed() == before


def test_another_workspaces_incident_is_as_unknown_as_a_missing_one(api, target, responder):
    elsewhere = WorkspaceFactory(name="branch-office")
    MembershipFactory(workspace=elsewhere, user=responder)
    foreign = incident_with_alerts(1, workspace=elsewhere)
    before = changed()

    for value in (str(foreign.uuid), resource_id(foreign)):
        response = merge(api, target, {"properties": {"sourceIncidentIds": [value], "reason": "x"}})
        assert error(response) == (
            404,
            "NotFound",
            f"Incident doesn’t exist: '{value}' (properties.sourceIncidentIds).",
        )
    assert changed() == before


def test_a_resource_id_naming_another_workspace_does_not_reach_this_ones_incident(
    api, target, sources
):
    wrong = resource_id(sources[0]).replace("/workspaces/soc/", "/workspaces/other/")
    before = changed()

    response = merge(api, target, {"properties": {"sourceIncidentIds": [wrong], "reason": "x"}})

    assert error(response)[0:2] == (404, "NotFound")
    assert changed() == before


# --- the domain's refusals -----------------------------------------------------


def test_merging_the_target_into_itself_is_refused(api, target, sources):
    before = changed()

    assert error(merge(api, target, body(sources[0], target))) == (
        400,
        "BadRequest",
        f"Incident #{target.number} cannot be merged into itself.",
    )
    assert changed() == before


def test_a_defender_xdr_incident_cannot_be_merged(api, target, workspace):
    defender = incident_with_alerts(1, workspace=workspace, provider_name=DEFENDER)
    before = changed()

    status, code, message = error(merge(api, target, body(defender)))

    assert (status, code) == (400, "BadRequest")
    assert f"Incident #{defender.number} is a {DEFENDER} incident" in message
    assert changed() == before


def test_a_merge_past_the_alert_cap_is_refused_saying_how_many(api, target, sources, settings):
    settings.TRIAGE_MAX_ALERTS_PER_INCIDENT = 5
    before = changed()

    status, code, message = error(merge(api, target, body(*sources)))

    assert (status, code) == (400, "BadRequest")
    assert "would hold 6 alerts, more than the limit of 5" in message
    assert changed() == before


def test_an_already_merged_target_is_refused(api, target, sources, workspace):
    other = incident_with_alerts(1, workspace=workspace)
    merge(api, other, body(target))
    before = changed()

    status, _, message = error(merge(api, target, body(*sources)))

    assert status == 400
    assert f"Incident #{target.number} was already merged into #{other.number}" in message
    assert changed() == before


def test_a_long_reason_is_refused_by_the_comment_rules(api, target, sources):
    before = changed()

    status, _, message = error(merge(api, target, body(*sources, reason="x" * 30_001)))

    assert status == 400
    assert "at most 30,000 characters" in message
    assert changed() == before


# --- cost and schema -----------------------------------------------------------


def test_merge_takes_a_number_of_queries_independent_of_the_alerts(api, workspace):
    api.get("incidents")  # The token's first use of the minute records it: one more query.
    counts = []
    for size in (1, 60):
        target = incident_with_alerts(1, workspace=workspace)
        sources = [incident_with_alerts(size, workspace=workspace) for _ in range(2)]
        with CaptureQueriesContext(connection) as queries:
            assert merge(api, target, body(*sources)).status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1] <= 40


def test_the_schema_documents_merge_and_the_merge_links(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    route = next(p for p in schema["paths"] if p.endswith("/incidents/{incident_id}/merge"))
    operation = schema["paths"][route]["post"]
    assert operation["operationId"] == "Incidents_Merge"
    assert {"200", "400", "403", "404"} <= set(operation["responses"])
    properties = schema["components"]["schemas"]["IncidentProperties"]["properties"]
    assert {"mergedInto", "mergedIncidentIds"} <= set(properties)
    body_schema = schema["components"]["schemas"]["MergeBodyPropertiesRequest"]
    assert set(body_schema["required"]) == {"sourceIncidentIds", "reason"}
