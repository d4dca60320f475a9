"""Who may call what: api-version, workspace membership and role, the incident in the path."""

import re
import uuid

from django.conf import settings
from rest_framework.request import Request

from incidents.activity import Actor
from incidents.api.errors import ApiError, bad_request, not_found
from incidents.models import (
    Alert,
    Bookmark,
    Incident,
    Membership,
    Role,
    TokenScope,
    Via,
    Workspace,
)

API_VERSIONS = ("2022-07-01-preview", "2023-02-01", "2024-03-01")
INCIDENT_NOT_FOUND = "Incident doesn’t exist."
NAME = re.compile(r"^[\w.\-]{1,256}$")
WORKSPACE_ID = (
    r"^/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<group>[^/]+)"
    r"/providers/Microsoft\.OperationalInsights/workspaces/(?P<workspace>[^/]+)"
)
RESOURCE_ID = re.compile(
    WORKSPACE_ID
    + r"/providers/Microsoft\.SecurityInsights/(?P<kind>entities|bookmarks)/(?P<key>[^/]+)$",
    re.IGNORECASE,
)
INCIDENT_ID = re.compile(
    WORKSPACE_ID + r"/providers/Microsoft\.SecurityInsights/incidents/(?P<key>[^/]+)$",
    re.IGNORECASE,
)
MERGE_BODY = '{"properties": {"sourceIncidentIds": ["{incidentId}", …], "reason": "…"}}'


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def check_api_version(request: Request) -> str:
    """Check `?api-version=`; also refuse NUL characters, which no field may hold."""
    if _has_nul(request.path) or _has_nul(dict(request.query_params)):
        raise bad_request("The request URL contains a NUL character (%00), which is not allowed.")
    if request.method == "PUT" and _has_nul(request.data):
        raise bad_request(
            "The request body contains a NUL character (\\u0000), which is not allowed."
        )
    version = request.query_params.get("api-version")
    supported = ", ".join(API_VERSIONS)
    if not version:
        raise ApiError(
            400,
            f"The api-version query parameter (?api-version=) is required for all requests. "
            f"Supported versions: {supported}.",
            "MissingApiVersionParameter",
        )
    if version not in API_VERSIONS:
        raise ApiError(
            400,
            f"The api-version '{version}' is invalid. The supported versions are: {supported}.",
            "InvalidApiVersionParameter",
        )
    return version


def check_token_scope(request: Request) -> None:
    """A token made for ingestion may ingest alerts and nothing else."""
    token = request.auth
    if token is not None and token.scope == TokenScope.INGEST:
        raise ApiError(
            403,
            "This API token was made for ingestion: it may only send alerts "
            "(POST /api/workspaces/{workspaceName}/alerts).",
        )


def access_workspace(
    request: Request, path: dict[str, str], *, write: bool = False
) -> tuple[Workspace, Actor]:
    """The workspace in the path, if the token's user may use it: 404 for outsiders, 403 for
    a role too low or a token limited to another workspace."""
    check_api_version(request)
    check_token_scope(request)
    subscription_id, resource_group, name = (
        path["subscription_id"],
        path["resource_group"],
        path["workspace_name"],
    )
    try:
        subscription = uuid.UUID(subscription_id)
    except ValueError:
        subscription = None
    membership = (
        Membership.objects.select_related("workspace")
        .filter(
            user=request.user,
            workspace__name=name,
            workspace__subscription_id=subscription,
            workspace__resource_group__iexact=resource_group,
        )
        .first()
        if subscription
        else None
    )
    if membership is None:
        raise not_found(
            f"Workspace '{name}' was not found in resource group '{resource_group}' of "
            f"subscription '{subscription_id}', or you are not a member of it."
        )
    token = request.auth
    if token is not None and token.workspace_id and token.workspace_id != membership.workspace_id:
        raise ApiError(
            403, f"This API token may only be used in workspace '{token.workspace.name}'."
        )
    needed = Role.RESPONDER if write else Role.READER
    if not membership.allows(needed):
        raise ApiError(
            403,
            f"Your role in workspace '{name}' is {membership.role}; this request needs "
            f"{needed} or higher.",
        )
    return membership.workspace, Actor.for_user(request.user, via=Via.API)


def access_incident(
    request: Request, path: dict[str, str], *, write: bool = False
) -> tuple[Workspace, Incident, Actor]:
    """The path's workspace (as `access_workspace`) and the incident `incidentId` names."""
    workspace, actor = access_workspace(request, path, write=write)
    incident_id = path["incident_id"]
    try:
        key = uuid.UUID(incident_id)
    except ValueError:
        raise bad_request(
            f"incidentId '{incident_id}' is not a valid incident id (a GUID)."
        ) from None
    incident = Incident.objects.filter(workspace=workspace, uuid=key).first()
    if incident is None:
        raise not_found(INCIDENT_NOT_FOUND)
    return workspace, incident, actor


def check_name(value: str, field: str) -> str:
    if not NAME.match(value):
        raise bad_request(
            f"{field} '{value}' is invalid: use 1 to 256 letters, digits, '-', '_' or '.'."
        )
    return value


def body_properties(request: Request, example: str) -> dict:
    body = request.data
    if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
        raise bad_request(f"The request body must be a JSON object like {example}.")
    return body["properties"]


def related_resource(request: Request) -> Alert | Bookmark:
    """The alert or bookmark that `properties.relatedResourceId` names."""
    properties = body_properties(
        request,
        '{"properties": {"relatedResourceId": "/subscriptions/…/entities/{systemAlertId}"}}',
    )
    raw = properties.get("relatedResourceId")
    if not isinstance(raw, str) or not raw.strip():
        raise bad_request(
            "properties.relatedResourceId is required: the resource id of the alert "
            "(…/providers/Microsoft.SecurityInsights/entities/{systemAlertId}) or bookmark "
            "(…/bookmarks/{bookmarkId}) to relate."
        )
    match = RESOURCE_ID.match(raw.strip())
    if match is None:
        raise bad_request(
            f"properties.relatedResourceId '{raw}' is not a resource id of the form "
            "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/"
            "Microsoft.OperationalInsights/workspaces/{workspaceName}/providers/"
            "Microsoft.SecurityInsights/entities/{systemAlertId}."
        )
    key = match["key"]
    missing = not_found(f"Resource '{key}' does not exist.")
    try:
        subscription, resource_key = uuid.UUID(match["subscription"]), uuid.UUID(key)
    except ValueError:
        raise missing from None
    # The resource's workspace: the incident's, or another one the caller belongs to.
    owner = Workspace.objects.filter(
        name=match["workspace"],
        subscription_id=subscription,
        resource_group__iexact=match["group"],
        memberships__user=request.user,
    ).first()
    if owner is None:
        raise missing from None
    if match["kind"].lower() == "entities":
        resource = Alert.objects.filter(workspace=owner, system_alert_id=resource_key).first()
    else:
        resource = Bookmark.objects.filter(workspace=owner, bookmark_id=resource_key).first()
    if resource is None:
        raise missing from None
    return resource


def _in_workspace(match: re.Match, workspace: Workspace) -> bool:
    return (
        match["subscription"].lower() == str(workspace.subscription_id)
        and match["group"].lower() == workspace.resource_group.lower()
        and match["workspace"] == workspace.name
    )


def _incident_key(value: object, index: int, workspace: Workspace) -> uuid.UUID | None:
    """The uuid an entry of `sourceIncidentIds` names: a bare uuid or an incident's resource
    id; None for a resource id of another workspace, which is as unknown as a missing one."""
    field = f"properties.sourceIncidentIds[{index}]"
    text = value.strip() if isinstance(value, str) else ""
    match = INCIDENT_ID.match(text)
    try:
        key = uuid.UUID(match["key"] if match else text)
    except ValueError:
        raise bad_request(
            f"{field} {value!r} is not an incident id: give the incident's uuid (its name) "
            "or its resource id (…/providers/Microsoft.SecurityInsights/incidents/{incidentId})."
        ) from None
    if match and not _in_workspace(match, workspace):
        return None
    return key


def merge_request(request: Request, workspace: Workspace) -> tuple[list[Incident], str]:
    """The incidents of the path's workspace that `properties.sourceIncidentIds` names, in
    its order, and `properties.reason`. Another workspace's incidents do not exist here."""
    properties = body_properties(request, MERGE_BODY)
    raw = properties.get("sourceIncidentIds")
    limit = settings.TRIAGE_MAX_MERGE_SOURCES
    if not isinstance(raw, list) or not raw:
        raise bad_request(
            f"properties.sourceIncidentIds is required: a list of 1 to {limit} ids of the "
            "incidents to merge into this one."
        )
    if len(raw) > limit:
        raise bad_request(
            f"properties.sourceIncidentIds lists {len(raw)} incidents; at most {limit} can be "
            "merged into another at once."
        )
    keys = [_incident_key(value, i, workspace) for i, value in enumerate(raw)]
    reason = properties.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise bad_request(
            "properties.reason is required: why these incidents belong together. It is "
            "written to the activity of every incident merged."
        )
    found = Incident.objects.filter(workspace=workspace, uuid__in={k for k in keys if k})
    by_key = {incident.uuid: incident for incident in found}
    missing = [value for value, key in zip(raw, keys, strict=True) if key not in by_key]
    if missing:
        names = ", ".join(f"'{value}'" for value in dict.fromkeys(missing))
        raise not_found(f"Incident doesn’t exist: {names} (properties.sourceIncidentIds).")
    return list({key: by_key[key] for key in keys}.values()), reason
