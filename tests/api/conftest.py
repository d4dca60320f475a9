"""An API client world: a workspace, a responder with a token, a reader with a token."""

from dataclasses import dataclass

import pytest
from django.test import Client

from incidents.api.tokens import create_token
from incidents.models import Incident, Workspace

VERSION = "2024-03-01"


def insights(workspace: Workspace) -> str:
    return f"{workspace.resource_id}/providers/Microsoft.SecurityInsights"


def alert_id(alert) -> str:
    return f"{insights(alert.workspace)}/entities/{alert.system_alert_id}"


@dataclass
class Api:
    """Requests to one workspace's Sentinel routes with a bearer token."""

    client: Client
    token: str
    workspace: Workspace

    def url(self, path: str, version: str | None = VERSION, **params) -> str:
        query = {"api-version": version, **params} if version else params
        qs = "&".join(f"{k}={v}" for k, v in query.items())
        return f"{insights(self.workspace)}/{path}" + (f"?{qs}" if qs else "")

    def headers(self) -> dict:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"} if self.token else {}

    def get(self, path: str, **params):
        return self.client.get(self.url(path, **params), **self.headers())

    def get_url(self, url: str):
        return self.client.get(url, **self.headers())

    def post(self, path: str, **params):
        return self.client.post(self.url(path, **params), **self.headers())

    def put(self, path: str, body, **params):
        return self.client.put(
            self.url(path, **params), body, content_type="application/json", **self.headers()
        )

    def delete(self, path: str, **params):
        return self.client.delete(self.url(path, **params), **self.headers())

    def relate(self, incident: Incident, name: str, alert, **params):
        body = {"properties": {"relatedResourceId": alert_id(alert)}}
        return self.put(f"incidents/{incident.uuid}/relations/{name}", body, **params)


def error(response) -> tuple[int, str, str]:
    body = response.json()["error"]
    return response.status_code, body["code"], body["message"]


@pytest.fixture
def api(workspace, responder) -> Api:
    _, raw = create_token(responder)
    return Api(Client(), raw, workspace)


@pytest.fixture
def reader_api(workspace, reader) -> Api:
    _, raw = create_token(reader)
    return Api(Client(), raw, workspace)
