"""Sentinel-compatible endpoints. Each: access → read or call the membership module → respond."""

from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from incidents import actions, membership
from incidents.api import schema
from incidents.api.access import (
    access_incident,
    access_workspace,
    body_properties,
    check_api_version,
    check_name,
    check_token_scope,
    merge_request,
    related_resource,
)
from incidents.api.errors import ApiError, bad_request, not_found
from incidents.api.paging import (
    Ordering,
    keyset_page,
    next_link,
    parse_filter,
    parse_orderby,
    parse_top,
)
from incidents.api.resources import (
    ALERT_TYPE,
    BOOKMARK_TYPE,
    alert_resource,
    comment_resource,
    entities_response,
    incident_extras,
    incident_resource,
    relation_resource,
    workspace_resource,
)
from incidents.models import (
    ActivityEntry,
    ActivityKind,
    Alert,
    Entity,
    Incident,
    Membership,
    Relation,
)

RELATION_TYPES = {
    ALERT_TYPE.lower(): Q(alert__isnull=False),
    BOOKMARK_TYPE.lower(): Q(bookmark__isnull=False),
}


@extend_schema(**schema.WORKSPACES)
@api_view(["GET"])
def workspaces(request: Request) -> Response:
    check_api_version(request)
    check_token_scope(request)
    memberships = Membership.objects.filter(user=request.user).select_related("workspace")
    if request.auth is not None and request.auth.workspace_id:
        memberships = memberships.filter(workspace_id=request.auth.workspace_id)
    return Response(
        {
            "value": [
                workspace_resource(m.workspace, m.role)
                for m in memberships.order_by("workspace__name")
            ]
        }
    )


@extend_schema(**schema.INCIDENT_LIST)
@api_view(["GET"])
def incident_list(request: Request, **path: str) -> Response:
    workspace, _ = access_workspace(request, path)
    filters = parse_filter(
        request, ("properties/status", "properties/severity", "properties/providerName")
    )
    ordering = parse_orderby(
        request,
        {
            "properties/createdTimeUtc": ("created", "id"),
            "properties/lastModifiedTimeUtc": ("modified", "id"),
            "properties/incidentNumber": ("number",),
        },
        default=Ordering(("created", "id"), descending=True),
    )
    incidents = Incident.objects.filter(workspace=workspace).select_related("owner")
    fields = {
        "properties/status": "status",
        "properties/severity": "severity",
        "properties/providerName": "provider_name",
    }
    incidents = incidents.filter(**{fields[k]: v for k, v in filters.items()})
    page, token = keyset_page(request, incidents, ordering, parse_top(request))
    extras = incident_extras(page)
    return Response(
        {
            "value": [incident_resource(i, workspace, extras[i.pk], request) for i in page],
            "nextLink": next_link(request, token),
        }
    )


@extend_schema(**schema.INCIDENT_GET)
@api_view(["GET"])
def incident_detail(request: Request, **path: str) -> Response:
    workspace, incident, _ = access_incident(request, path)
    extras = incident_extras([incident])
    return Response(incident_resource(incident, workspace, extras[incident.pk], request))


@extend_schema(**schema.RELATION_LIST)
@api_view(["GET"])
def relation_list(request: Request, **path: str) -> Response:
    workspace, incident, _ = access_incident(request, path)
    filters = parse_filter(request, ("properties/relatedResourceType",))
    ordering = parse_orderby(request, {"name": ("name",)}, default=Ordering(("id",), False))
    relations = Relation.objects.filter(incident=incident).select_related("alert", "bookmark")
    if "properties/relatedResourceType" in filters:
        kind = filters["properties/relatedResourceType"].lower()
        if kind not in RELATION_TYPES:
            raise bad_request(
                f"properties/relatedResourceType must be '{ALERT_TYPE}' or '{BOOKMARK_TYPE}'."
            )
        relations = relations.filter(RELATION_TYPES[kind])
    page, token = keyset_page(request, relations, ordering, parse_top(request))
    return Response(
        {
            "value": [relation_resource(r, incident, workspace) for r in page],
            "nextLink": next_link(request, token),
        }
    )


@extend_schema(methods=["GET"], **schema.RELATION_GET)
@extend_schema(methods=["PUT"], **schema.RELATION_PUT)
@extend_schema(methods=["DELETE"], **schema.RELATION_DELETE)
@api_view(["GET", "PUT", "DELETE"])
def relation_detail(request: Request, relation_name: str, **path: str) -> Response:
    workspace, incident, actor = access_incident(request, path, write=request.method != "GET")
    name = check_name(relation_name, "relationName")
    if request.method == "PUT":
        relation, created = membership.put_relation(
            incident, name, related_resource(request), actor=actor
        )
        return Response(
            relation_resource(relation, incident, workspace), status=201 if created else 200
        )
    if request.method == "DELETE":
        deleted = membership.delete_relation(incident, name, actor=actor)
        return Response(status=200 if deleted else 204)
    relation = (
        Relation.objects.filter(incident=incident, name=name)
        .select_related("alert", "bookmark")
        .first()
    )
    if relation is None:
        raise not_found(f"Relation '{name}' does not exist in incident {incident.uuid}.")
    return Response(relation_resource(relation, incident, workspace))


@extend_schema(**schema.INCIDENT_MERGE)
@api_view(["POST"])
def incident_merge(request: Request, **path: str) -> Response:
    workspace, target, actor = access_incident(request, path, write=True)
    sources, reason = merge_request(request, workspace)
    membership.merge_incidents(sources, into=target, actor=actor, reason=reason)
    extras = incident_extras([target])
    return Response(incident_resource(target, workspace, extras[target.pk], request))


@extend_schema(**schema.INCIDENT_ALERTS)
@api_view(["POST"])
def incident_alerts(request: Request, **path: str) -> Response:
    workspace, incident, _ = access_incident(request, path)
    alerts = Alert.objects.filter(relations__incident=incident).order_by("time_generated", "id")
    return Response({"value": [alert_resource(a, workspace) for a in alerts]})


@extend_schema(**schema.INCIDENT_ENTITIES)
@api_view(["POST"])
def incident_entities(request: Request, **path: str) -> Response:
    workspace, incident, _ = access_incident(request, path)
    entities = list(
        Entity.objects.filter(alerts__relations__incident=incident)
        .distinct()
        .order_by("kind", "identifier")
    )
    return Response(entities_response(entities, workspace))


def _comments(incident: Incident):
    return ActivityEntry.objects.filter(
        incident=incident, kind=ActivityKind.COMMENT
    ).select_related("actor")


@extend_schema(**schema.COMMENT_LIST)
@api_view(["GET"])
def comment_list(request: Request, **path: str) -> Response:
    workspace, incident, _ = access_incident(request, path)
    ordering = parse_orderby(
        request,
        {"properties/createdTimeUtc": ("created", "id")},
        default=Ordering(("created", "id"), descending=True),
    )
    page, token = keyset_page(request, _comments(incident), ordering, parse_top(request))
    return Response(
        {
            "value": [comment_resource(c, incident, workspace) for c in page],
            "nextLink": next_link(request, token),
        }
    )


@extend_schema(methods=["GET"], **schema.COMMENT_GET)
@extend_schema(methods=["PUT"], **schema.COMMENT_PUT)
@api_view(["GET", "PUT"])
def comment_detail(request: Request, comment_id: str, **path: str) -> Response:
    workspace, incident, actor = access_incident(request, path, write=request.method != "GET")
    name = check_name(comment_id, "commentId")
    existing = _comments(incident).filter(details__comment_id=name).first()
    if request.method == "GET":
        if existing is None:
            raise not_found(f"Comment '{name}' does not exist in incident {incident.uuid}.")
        return Response(comment_resource(existing, incident, workspace))
    message = body_properties(request, '{"properties": {"message": "…"}}').get("message")
    if not isinstance(message, str) or not message.strip():
        raise bad_request("properties.message is required: the text of the comment.")
    if existing is not None:
        if existing.comment != message.strip():
            raise ApiError(
                409,
                f"Comment '{name}' already exists with a different message. Comments cannot "
                "be edited: the activity log is append-only. Use a new commentId.",
            )
        return Response(comment_resource(existing, incident, workspace))
    entry = actions.add_comment(incident, message, actor=actor, comment_id=name)
    return Response(comment_resource(entry, incident, workspace), status=201)
