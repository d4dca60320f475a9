"""`POST /api/workspaces/{workspaceName}/alerts`: ingest SecurityAlert rows, all or nothing."""

import io

from django.db import IntegrityError, OperationalError
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
from incidents.ingest.stream import ATTEMPTS
from incidents.models import Alert, Membership, Role, TokenScope, Via, Workspace

MAX_ROWS = 1000
MAX_BYTES = 10 * 1024 * 1024


@extend_schema(**schema.INGEST)
@api_view(["POST"])
def ingest_alerts(request: Request, workspace_name: str) -> Response:
    check_api_version(request)
    workspace = access_ingestion(request, workspace_name)
    batch = check_rows(request, workspace)
    actor = Actor.for_user(request.user, via=Via.INGESTION)
    for attempt in range(ATTEMPTS):
        try:
            result = ingest_batch(workspace, batch, actor=actor)
            break
        except (IntegrityError, OperationalError):
            if attempt == ATTEMPTS - 1:
                raise
    if result.rejected:
        # Only a race with another workspace gets here; nothing of this request was lost.
        raise bad_request(next(iter(result.rejected.values())))
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


def check_rows(request: Request, workspace: Workspace) -> list[Prepared]:
    """Every row of the body, checked; any bad row refuses the whole request, naming each."""
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
    problems: list[dict] = []
    for index, raw in enumerate(read_rows("-", fmt, stdin=io.BytesIO(body))):
        if index >= MAX_ROWS:
            raise bad_request(f"A request holds at most {MAX_ROWS:,} rows: split it.")
        reason = raw.error
        if reason is None:
            try:
                batch.append(prepare(raw.data))
            except RowError as error:
                reason = str(error)
        if reason is not None:
            problems.append(_problem(index, raw.location, reason))
    if not problems:
        ids = {prepared.row.system_alert_id for prepared in batch}
        foreign = set(
            Alert.objects.filter(system_alert_id__in=ids)
            .exclude(workspace=workspace)
            .values_list("system_alert_id", flat=True)
        )
        for index, prepared in enumerate(batch):
            if prepared.row.system_alert_id in foreign:
                reason = (
                    f"SystemAlertId {prepared.row.system_alert_id} already belongs to an alert "
                    "of another workspace."
                )
                problems.append(_problem(index, "", reason))
    if problems:
        raise ApiError(
            400,
            f"{len(problems):,} row{'s' if len(problems) != 1 else ''} of the request "
            f"{'are' if len(problems) != 1 else 'is'} invalid; nothing was stored.",
            details=problems,
        )
    if not batch:
        raise bad_request("The request holds no rows.")
    return batch


def _problem(index: int, location: str, reason: str) -> dict:
    where = f" ({location})" if location else ""
    return {
        "code": "InvalidRow",
        "target": f"[{index}]",
        "message": f"Row {index}{where}: {reason}",
    }
