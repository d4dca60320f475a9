"""`$skipToken` holding anything but a previous page's cursor is a 400, on every list."""

import base64
import json
from urllib.parse import quote

import pytest

from tests.api.conftest import error
from tests.factories import incident_with_alerts


def token(data) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


BAD_VALUES = [None, {"a": 1}, [1], True, 1.5, 1e400, 2**63, -(2**63) - 1, "x\u0000", "\ud800"]
NOT_A_TIME = ["2024-13-45T00:00:00Z", "2024-01-01T00:00:00", "0001-01-01T00:00:00+14:00", ""]
TOKENS = [
    *(token(data) for v in BAD_VALUES for data in ([v], [v, v], [v, 1])),
    *(token([t, 1]) for t in NOT_A_TIME),
    token([None]),
    token([]),
    token({"a": 1}),
    token(None),
    token("x"),
    base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode(),
    base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    "garbage!!",
]


@pytest.fixture
def incident(workspace, responder):
    return incident_with_alerts(2, workspace=workspace)


@pytest.mark.parametrize(
    ("path", "orderby"),
    [
        ("incidents", None),
        ("incidents", "properties/lastModifiedTimeUtc desc"),
        ("incidents", "properties/incidentNumber asc"),
        ("incidents/{uuid}/relations", None),
        ("incidents/{uuid}/relations", "name desc"),
        ("incidents/{uuid}/comments", None),
    ],
)
def test_a_tampered_skip_token_is_a_400_on_every_list(api, incident, path, orderby):
    params = {"$orderby": quote(orderby)} if orderby else {}
    for raw in TOKENS:
        response = api.get(path.format(uuid=incident.uuid), **params, **{"$skipToken": quote(raw)})

        status, code, message = error(response)
        assert (status, code) == (400, "BadRequest"), raw
        assert message == "$skipToken is not valid: use the nextLink of a previous page as it is."


def test_a_skip_token_of_nulls_is_a_400_not_a_server_error(api, incident):
    response = api.get("incidents", **{"$skipToken": token([None, None])})

    assert error(response)[:2] == (400, "BadRequest")
