"""`POST /api/workspaces/{name}/alerts`: who may ingest, the limits, all-or-nothing errors."""

import json

import pytest
from django.test import Client

from incidents.api.ingest import MAX_BYTES
from incidents.api.tokens import create_token
from incidents.models import Alert, Incident, Role, TokenScope
from tests.api.conftest import VERSION, Api, error
from tests.factories import MembershipFactory, UserFactory
from tests.ingest.builders import defender_row, row

pytestmark = pytest.mark.django_db


def url(name: str = "soc", version: str | None = VERSION) -> str:
    return f"/api/workspaces/{name}/alerts" + (f"?api-version={version}" if version else "")


def post(token: str, body, *, name="soc", content_type="application/json", version=VERSION):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return Client().post(
        url(name, version),
        data,
        content_type=content_type,
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def member_token(workspace, role: str, *, ingest_only: bool = False) -> str:
    """A token of a new member of `workspace`; `ingest_only` makes an ingestion token."""
    user = UserFactory(username=f"user-{role}-{ingest_only}")
    MembershipFactory(workspace=workspace, user=user, role=role)
    if ingest_only:
        return create_token(user, workspace=workspace, scope=TokenScope.INGEST)[1]
    return create_token(user)[1]


@pytest.fixture
def contributor_token(workspace) -> str:
    return member_token(workspace, Role.CONTRIBUTOR)


def test_a_contributor_ingests_and_gets_one_result_per_row(workspace, contributor_token):
    rows = [row(), defender_row(384), defender_row(384)]

    response = post(contributor_token, rows)

    assert response.status_code == 200
    results = response.json()["value"]
    assert [r["systemAlertId"] for r in results] == [r["SystemAlertId"] for r in rows]
    assert {r["status"] for r in results} == {"created"}
    defender = Incident.objects.get(provider_incident_id="384")
    assert results[1]["incidents"] == results[2]["incidents"] == [defender.number]
    assert results[0]["how"] == "correlated into a new incident"
    assert results[1]["how"] == (
        "correlated into a new incident: Microsoft Defender XDR incident 384"
    )
    assert results[2]["how"] == results[1]["how"]
    later = post(contributor_token, [defender_row(384)]).json()["value"][0]
    assert later["how"] == (
        f"correlated into incident #{defender.number}: Microsoft Defender XDR incident 384"
    )


def test_json_lines_are_accepted_too(workspace, contributor_token):
    body = "\n".join(json.dumps(r) for r in [row(), row()])

    response = post(contributor_token, body, content_type="application/x-ndjson")

    assert response.status_code == 200
    assert Alert.objects.count() == 2


def test_sending_the_same_request_again_applies_nothing_twice(workspace, contributor_token):
    rows = [row(), defender_row(1)]
    post(contributor_token, rows)

    response = post(contributor_token, rows)

    assert [r["status"] for r in response.json()["value"]] == ["unchanged", "unchanged"]
    assert Alert.objects.count() == 2
    assert Incident.objects.count() == 2


def test_an_ingestion_token_works_whatever_the_users_role(workspace):
    token = member_token(workspace, Role.READER, ingest_only=True)

    assert post(token, [row()]).status_code == 200


def test_an_ingestion_token_can_do_nothing_else(workspace):
    token = member_token(workspace, Role.CONTRIBUTOR, ingest_only=True)
    api = Api(Client(), token, workspace)

    listing = api.get_url(f"/api/workspaces?api-version={VERSION}")
    for response in (api.get("incidents"), listing):
        status, code, message = error(response)
        assert (status, code) == (403, "AuthorizationFailed")
        assert message.startswith("This API token was made for ingestion")


@pytest.mark.parametrize("role", [Role.READER, Role.RESPONDER])
def test_a_plain_token_needs_a_contributor(workspace, role):
    token = member_token(workspace, role)

    status, code, message = error(post(token, [row()]))

    assert (status, code) == (403, "AuthorizationFailed")
    assert f"Your role in workspace 'soc' is {role}; ingesting alerts needs contributor" in message
    assert not Alert.objects.exists()


def test_an_outsider_gets_404(workspace, outsider):
    token = create_token(outsider)[1]

    assert error(post(token, [row()]))[0] == 404
    assert not Alert.objects.exists()


def test_a_token_of_another_workspace_is_refused(workspace, other_workspace):
    user = UserFactory(username="both")
    MembershipFactory(workspace=workspace, user=user, role=Role.CONTRIBUTOR)
    MembershipFactory(workspace=other_workspace, user=user, role=Role.CONTRIBUTOR)
    token = create_token(user, workspace=other_workspace, scope=TokenScope.INGEST)[1]

    status, _, message = error(post(token, [row()]))

    assert status == 403
    assert message == "This API token may only be used in workspace 'branch-office'."


def test_no_token_is_401_and_no_version_is_400(workspace, contributor_token):
    assert Client().post(url(), "[]", content_type="application/json").status_code == 401
    status, code, _ = error(post(contributor_token, [row()], version=None))
    assert (status, code) == (400, "MissingApiVersionParameter")


def test_every_bad_row_is_named_and_nothing_is_stored(workspace, contributor_token):
    rows = [row(), row(SystemAlertId=None), row(), row(AlertSeverity="Critical")]

    response = post(contributor_token, rows)

    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "BadRequest"
    assert body["message"] == "2 rows of the request are invalid; nothing was stored."
    assert [(d["target"], d["message"]) for d in body["details"]] == [
        ("[1]", "Row 1 (line 1): missing SystemAlertId"),
        (
            "[3]",
            "Row 3 (line 1): AlertSeverity: 'Critical' is not one of High, Medium, Low, "
            "Informational",
        ),
    ]
    assert not Alert.objects.exists()
    assert not Incident.objects.exists()


def test_bad_json_is_a_400(workspace, contributor_token):
    status, _, message = error(post(contributor_token, "[{"))

    assert status == 400
    assert "bad JSON" in message or "invalid" in message


def test_an_alert_id_of_another_workspace_is_a_bad_row(
    workspace, other_workspace, contributor_token
):
    taken = row()
    other = member_token(other_workspace, Role.CONTRIBUTOR)
    assert post(other, [taken], name="branch-office").status_code == 200

    response = post(contributor_token, [row(), taken])

    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["target"] == "[1]"
    assert Alert.objects.filter(workspace=workspace).count() == 0


def test_at_most_1000_rows_a_request(workspace, contributor_token):
    status, _, message = error(post(contributor_token, [row() for _ in range(1001)]))

    assert (status, message) == (400, "A request holds at most 1,000 rows: split it.")
    assert not Alert.objects.exists()


def test_at_most_10_mib_a_request(workspace, contributor_token):
    body = json.dumps(
        [row(Description="x" * (MAX_BYTES // 2)), row(Description="y" * (MAX_BYTES // 2))]
    )

    status, code, message = error(post(contributor_token, body))

    assert (status, code) == (413, "RequestEntityTooLarge")
    assert message == "The request body is larger than 10 MiB: split it."


def test_an_empty_body_is_a_400(workspace, contributor_token):
    status, _, message = error(post(contributor_token, ""))

    assert status == 400
    assert message.startswith("The request body is empty")


def test_the_operation_is_in_the_openapi_schema(db):
    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/json").json()

    operation = schema["paths"]["/api/workspaces/{workspace_name}/alerts"]["post"]
    assert operation["operationId"] == "Alerts_Ingest"
    assert {"200", "400", "403", "413"} <= set(operation["responses"])
