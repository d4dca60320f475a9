"""The OpenAPI schema, its docs page, and a schemathesis run against the live API."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings

from incidents.api.tokens import create_token
from incidents.models import Role
from tests.factories import (
    BookmarkFactory,
    IncidentFactory,
    MembershipFactory,
    UserFactory,
    WorkspaceFactory,
    alert_in,
    incident_with_alerts,
)


def test_the_schema_is_openapi_3_and_names_the_relation_routes(client: Client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    relation = next(p for p in schema["paths"] if p.endswith("/relations/{relation_name}"))
    assert set(schema["paths"][relation]) >= {"get", "put", "delete"}
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_the_docs_page_loads_its_assets_from_this_server(client: Client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert b"cdn.jsdelivr" not in response.content
    assert b"/static/drf_spectacular_sidecar/" in response.content


CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.response_schema_conformance,
]


@pytest.fixture
def live_schema(db):
    """The live schema, the path ids of a real incident, and a responder's token."""
    from triage.wsgi import application

    workspace = WorkspaceFactory(name="soc")
    user = UserFactory(username="robot")
    MembershipFactory(workspace=workspace, user=user, role=Role.RESPONDER)
    incident = incident_with_alerts(3, workspace=workspace)
    alert_in(IncidentFactory(workspace=workspace))
    BookmarkFactory(workspace=workspace)
    _, raw = create_token(user)
    path_values = {
        "subscription_id": str(workspace.subscription_id),
        "resource_group": workspace.resource_group,
        "workspace_name": workspace.name,
        "incident_id": str(incident.uuid),
    }
    # Like Django's test client: keep the test's connection (and transaction) open across
    # the in-process requests, which would otherwise close it when each request ends.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        loaded = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
        yield loaded, path_values, {"Authorization": f"Bearer {raw}"}
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_the_api_never_errors_and_keeps_to_its_schema(live_schema):
    loaded, path_values, headers = live_schema
    operations = [result.ok() for result in loaded.get_all_operations()]
    assert len(operations) >= 12

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            derandomize=True,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def call(case):
            # Real ids, so examples reach an incident instead of stopping at 404.
            fixed = {k: v for k, v in path_values.items() if k in (case.path_parameters or {})}
            case.path_parameters = {**(case.path_parameters or {}), **fixed}
            case.call_and_validate(headers=headers, checks=CHECKS)

        call()
