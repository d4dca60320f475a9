"""Tokens, roles, workspaces and api-version, for every route."""

import uuid

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from incidents.api.tokens import create_token, digest
from incidents.models import ApiToken, Relation, Role
from tests.api.conftest import Api, error
from tests.factories import (
    IncidentFactory,
    MembershipFactory,
    UserFactory,
    WorkspaceFactory,
    alert_in,
    incident_with_alerts,
)

READS = [
    ("get", "incidents"),
    ("get", "incidents/{incident}"),
    ("get", "incidents/{incident}/relations"),
    ("get", "incidents/{incident}/relations/{relation}"),
    ("post", "incidents/{incident}/alerts"),
    ("post", "incidents/{incident}/entities"),
    ("get", "incidents/{incident}/comments"),
]


@pytest.fixture
def incident(workspace):
    return incident_with_alerts(1, workspace=workspace)


def paths(incident):
    relation = incident.relations.first().name
    return [(m, p.format(incident=incident.uuid, relation=relation)) for m, p in READS]


def test_every_route_needs_a_token(api, incident):
    api.token = ""
    for method, path in paths(incident):
        response = getattr(api, method)(path)
        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "AuthenticationFailed"
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_token_is_refused(api, incident):
    api.token = "trg_not-a-real-token"

    assert error(api.get("incidents")) == (
        401,
        "AuthenticationFailed",
        "The token is invalid or has been revoked.",
    )


def test_a_revoked_token_is_refused(api, incident):
    ApiToken.objects.update(revoked=timezone.now())

    assert api.get("incidents").status_code == 401


def test_tokens_are_stored_only_as_a_digest(responder):
    token, raw = create_token(responder)

    assert raw.startswith("trg_")
    assert token.digest == digest(raw)
    assert raw not in (token.digest, token.prefix)


def test_a_reader_may_read_every_route(reader_api, incident):
    for method, path in paths(incident):
        assert getattr(reader_api, method)(path).status_code == 200, path


def test_a_reader_may_not_change_relations_or_comment(reader_api, incident, workspace):
    alert = alert_in(IncidentFactory(workspace=workspace))
    before = Relation.objects.count()

    responses = [
        reader_api.relate(incident, "rel-1", alert),
        reader_api.delete(f"incidents/{incident.uuid}/relations/{incident.relations.first().name}"),
        reader_api.put(f"incidents/{incident.uuid}/comments/c1", {"properties": {"message": "x"}}),
    ]

    for response in responses:
        assert error(response) == (
            403,
            "AuthorizationFailed",
            "Your role in workspace 'soc' is reader; this request needs responder or higher.",
        )
    assert Relation.objects.count() == before


def test_an_outsiders_token_finds_no_workspace(outsider, incident, workspace):
    _, raw = create_token(outsider)
    api = Api(Client(), raw, workspace)

    for method, path in paths(incident):
        status, code, message = error(getattr(api, method)(path))
        assert (status, code) == (404, "NotFound"), path
        assert "Workspace 'soc' was not found" in message


def test_an_unknown_workspace_is_a_404(api, incident):
    api.workspace = WorkspaceFactory.build(name="nowhere", subscription_id=uuid.uuid4())

    assert error(api.get("incidents"))[0:2] == (404, "NotFound")


def test_a_token_limited_to_one_workspace_is_refused_in_another(responder, workspace, incident):
    other = WorkspaceFactory(name="other-ws")
    MembershipFactory(workspace=other, user=responder)
    _, raw = create_token(responder, workspace=other)

    response = Api(Client(), raw, workspace).get("incidents")

    assert error(response) == (
        403,
        "AuthorizationFailed",
        "This API token may only be used in workspace 'other-ws'.",
    )
    assert Api(Client(), raw, other).get("incidents").status_code == 200


@pytest.mark.parametrize("version", ["2022-07-01-preview", "2023-02-01", "2024-03-01"])
def test_supported_api_versions_are_accepted(api, incident, version):
    assert api.get("incidents", version=version).status_code == 200


def test_a_missing_api_version_is_a_400(api, incident):
    status, code, message = error(api.get("incidents", version=None))

    assert (status, code) == (400, "MissingApiVersionParameter")
    assert "api-version" in message


def test_an_unknown_api_version_is_a_400_listing_the_supported_ones(api, incident):
    status, code, message = error(api.get("incidents", version="2019-01-01"))

    assert (status, code) == (400, "InvalidApiVersionParameter")
    assert "'2019-01-01' is invalid" in message
    assert "2022-07-01-preview" in message


def test_wrong_methods_are_refused_in_the_error_shape(api, incident):
    response = api.client.patch(api.url("incidents"), **api.headers())

    assert error(response)[0:2] == (405, "MethodNotAllowed")


def test_workspaces_lists_the_callers_workspaces_with_role_and_resource_id(api, workspace):
    body = api.client.get("/api/workspaces?api-version=2024-03-01", **api.headers()).json()

    assert body["value"] == [
        {
            "id": workspace.resource_id,
            "name": "soc",
            "type": "Microsoft.OperationalInsights/workspaces",
            "properties": {
                "displayName": str(workspace),
                "subscriptionId": str(workspace.subscription_id),
                "resourceGroup": workspace.resource_group,
                "role": Role.RESPONDER,
            },
        }
    ]


def test_workspaces_of_a_limited_token_is_that_one_workspace(responder, workspace):
    other = WorkspaceFactory(name="other-ws")
    MembershipFactory(workspace=other, user=responder)
    _, raw = create_token(responder, workspace=other)

    body = (
        Client()
        .get("/api/workspaces?api-version=2024-03-01", HTTP_AUTHORIZATION=f"Bearer {raw}")
        .json()
    )

    assert [w["name"] for w in body["value"]] == ["other-ws"]


def test_create_api_token_prints_a_working_token_once(responder, workspace, capsys):
    call_command("create_api_token", "responder", "--workspace", "soc")

    out, err = capsys.readouterr()
    raw = out.strip()
    assert ApiToken.objects.get(digest=digest(raw)).workspace == workspace
    assert "not shown again" in err
    assert Api(Client(), raw, workspace).get("incidents").status_code == 200


def test_create_api_token_explains_unknown_users_and_workspaces(responder, workspace):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="There is no user 'ghost'"):
        call_command("create_api_token", "ghost")
    with pytest.raises(CommandError, match="There is no workspace 'nope'"):
        call_command("create_api_token", "responder", "--workspace", "nope")
    stranger = UserFactory(username="stranger")
    with pytest.raises(CommandError, match="not a member of any workspace"):
        call_command("create_api_token", stranger.username)


def test_nul_characters_are_refused_before_they_reach_the_database(api, incident):
    url_response = api.get("incidents", **{"$filter": "properties/status eq 'New%00'"})
    body_response = api.put(
        f"incidents/{incident.uuid}/comments/c1", {"properties": {"message": "a\x00b"}}
    )

    assert error(url_response)[0] == 400
    assert "NUL" in error(url_response)[2]
    assert error(body_response)[0] == 400
    assert not incident.activity.filter(kind="comment").exists()
