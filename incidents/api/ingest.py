"""`POST /api/workspaces/{workspaceName}/alerts`: ingest SecurityAlert rows, all or nothing."""

import io

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from incidents.activity import Actor
from incidents.api import schema
from incidents.api.access import check_api_version
from incidents.api.errors import ApiError, bad_request, not_found
from incidents.ingest.readers import read_rows
from incidents.ingest.rows import RowError
from incidents.ingest.store import Prepared, ingest_batch, prepare
from incidents.models import Membership, Role, TokenScope, Via, Workspace

MAX_ROWS = 1000
MAX_BYTES = 10 * 1024 * 1024


@extend_schema(**schema.INGEST)
@api_view(["POST"])
def ingest_alerts(request: Request, workspace_name: str) -> Response:
    check_api_version(request)
    workspace = access_ingestion(request, workspace_name)
    batch, locations = check_rows(request)
    actor = Actor.for_user(request.user, via=Via.INGESTION)
    with transaction.atomic():
        result = ingest_batch(workspace, batch, actor=actor)
        # Only the database knows a row whose alert id another workspace has: all or nothing.
        if result.rejected:
            transaction.set_rollback(True)
    if result.rejected:
        raise invalid_rows(
            [_problem(i, locations[i], reason) for i, reason in sorted(result.rejected.items())]
        )
    return Response(
        {
            "value": [
                {
                    "systemAlertId": str(row.system_alert_id),
                    "status": row.status,
                    "incidents": row.incidents,
                    "how": row.how,
                }
                for row in result.rows
            ]
        }
    )


def access_ingestion(request: Request, name: str) -> Workspace:
    """The workspace, if the token may ingest there: a contributor's token, or a token made
    for ingestion in that workspace. 404 for outsiders, 403 for the rest."""
    membership = (
        Membership.objects.select_related("workspace")
        .filter(user=request.user, workspace__name=name)
        .first()
    )
    if membership is None:
        raise not_found(f"Workspace '{name}' was not found, or you are not a member of it.")
    token = request.auth
    if token.workspace_id and token.workspace_id != membership.workspace_id:
        raise ApiError(
            403, f"This API token may only be used in workspace '{token.workspace.name}'."
        )
    if token.scope != TokenScope.INGEST and not membership.allows(Role.CONTRIBUTOR):
        raise ApiError(
            403,
            f"Your role in workspace '{name}' is {membership.role}; ingesting alerts needs "
            "contributor, or a token made for ingestion "
            "(manage.py create_api_token USER --workspace W --scope ingest).",
        )
    return membership.workspace


def check_rows(request: Request) -> tuple[list[Prepared], list[str]]:
    """Every row of the body, checked, with where it was; any bad row refuses the whole
    request, naming each."""
    stream = request.stream
    body = stream.read(MAX_BYTES + 1) if stream is not None else b""
    if len(body) > MAX_BYTES:
        raise ApiError(
            413, f"The request body is larger than {MAX_BYTES // (1024 * 1024)} MiB: split it."
        )
    if not body.strip():
        raise bad_request("The request body is empty: send a JSON array or JSON lines of rows.")
    fmt = "json" if body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"[") else "jsonl"
    batch: list[Prepared] = []
    locations: list[str] = []
    problems: list[dict] = []
    for index, raw in enumerate(read_rows("-", fmt, stdin=io.BytesIO(body))):
        if index >= MAX_ROWS:
            raise bad_request(f"A request holds at most {MAX_ROWS:,} rows: split it.")
        reason = raw.error
        if reason is None:
            try:
                batch.append(prepare(raw.data))
                locations.append(raw.location)
            except RowError as error:
                reason = str(error)
        if reason is not None:
            problems.append(_problem(index, raw.location, reason))
    if problems:
        raise invalid_rows(problems)
    if not batch:
        raise bad_request("The request holds no rows.")
    return batch, locations


def invalid_rows(problems: list[dict]) -> ApiError:
    many = len(problems) != 1
    return ApiError(
        400,
        f"{len(problems):,} row{'s' if many else ''} of the request "
        f"{'are' if many else 'is'} invalid; nothing was stored.",
        details=problems,
    )


def _problem(index: int, location: str, reason: str) -> dict:
    where = f" ({location})" if location else ""
    return {
        "code": "InvalidRow",
        "target": f"[{index}]",
        "message": f"Row {index}{where}: {reason}",
    }
