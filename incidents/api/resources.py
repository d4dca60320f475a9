"""Triage's rows as Sentinel's API resources (plain dicts; their shapes are in `schema`)."""

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.db.models import Count, Q
from rest_framework.request import Request

from incidents.models import (
    ActivityEntry,
    ActivityKind,
    Alert,
    Bookmark,
    Entity,
    Incident,
    Relation,
    Workspace,
)

INSIGHTS = "providers/Microsoft.SecurityInsights"
ALERT_TYPE = "Microsoft.SecurityInsights/entities"
BOOKMARK_TYPE = "Microsoft.SecurityInsights/bookmarks"
RELATION_TYPE = "Microsoft.SecurityInsights/incidents/relations"

ENTITY_KINDS = {
    "account": "Account",
    "host": "Host",
    "ip": "Ip",
    "url": "Url",
    "filehash": "FileHash",
    "file": "File",
    "process": "Process",
    "mailbox": "Mailbox",
    "mailmessage": "MailMessage",
    "cloudapplication": "CloudApplication",
    "dns": "DnsResolution",
    "registrykey": "RegistryKey",
    "registryvalue": "RegistryValue",
    "azureresource": "AzureResource",
    "malware": "Malware",
    "securitygroup": "SecurityGroup",
    "iotdevice": "IoTDevice",
    "mailcluster": "MailCluster",
    "submissionmail": "SubmissionMail",
    "cloudlogonsession": "CloudLogonSession",
    "cloudlogonrequest": "CloudLogonRequest",
    "oauthapplication": "OAuthApplication",
    "other": "Unknown",
}
# Entities have integer keys here; the API names them by a stable derived GUID.
ENTITY_NAMESPACE = uuid.UUID("6f1c8a52-7f0e-4a55-9a8e-3f2b8d2c1e44")


def etag(*parts: object) -> str:
    text = ":".join(str(p) for p in parts)
    return '"' + hashlib.md5(text.encode(), usedforsecurity=False).hexdigest() + '"'


def utc(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def workspace_id(workspace: Workspace) -> str:
    return workspace.resource_id


def incident_id(incident: Incident, workspace: Workspace) -> str:
    return incident_key_id(incident.uuid, workspace)


def incident_key_id(key: uuid.UUID, workspace: Workspace) -> str:
    return f"{workspace.resource_id}/{INSIGHTS}/incidents/{key}"


def alert_resource_id(alert: Alert, workspace: Workspace) -> str:
    return f"{workspace.resource_id}/{INSIGHTS}/entities/{alert.system_alert_id}"


def bookmark_resource_id(bookmark: Bookmark, workspace: Workspace) -> str:
    return f"{workspace.resource_id}/{INSIGHTS}/bookmarks/{bookmark.bookmark_id}"


def workspace_resource(workspace: Workspace, role: str) -> dict:
    return {
        "id": workspace.resource_id,
        "name": workspace.name,
        "type": "Microsoft.OperationalInsights/workspaces",
        "properties": {
            "displayName": str(workspace),
            "subscriptionId": str(workspace.subscription_id),
            "resourceGroup": workspace.resource_group,
            "role": role,
        },
    }


def relation_resource(relation: Relation, incident: Incident, workspace: Workspace) -> dict:
    if relation.alert is not None:
        properties = {
            "relatedResourceId": alert_resource_id(relation.alert, workspace),
            "relatedResourceName": str(relation.alert.system_alert_id),
            "relatedResourceType": ALERT_TYPE,
            "relatedResourceKind": "SecurityAlert",
        }
    else:
        properties = {
            "relatedResourceId": bookmark_resource_id(relation.bookmark, workspace),
            "relatedResourceName": str(relation.bookmark.bookmark_id),
            "relatedResourceType": BOOKMARK_TYPE,
            "relatedResourceKind": None,
        }
    return {
        "id": f"{incident_id(incident, workspace)}/relations/{relation.name}",
        "name": relation.name,
        "type": RELATION_TYPE,
        "etag": etag(relation.pk, relation.name, properties["relatedResourceName"]),
        "properties": properties,
    }


def _owner(incident: Incident) -> dict:
    owner = incident.owner
    if owner is None:
        return {
            "objectId": None,
            "email": None,
            "assignedTo": None,
            "userPrincipalName": None,
            "ownerType": "Unknown",
        }
    return {
        "objectId": None,
        "email": owner.email or None,
        "assignedTo": owner.get_full_name() or owner.get_username(),
        "userPrincipalName": owner.get_username(),
        "ownerType": "User",
    }


def incident_extras(incidents: Iterable[Incident]) -> dict[int, dict]:
    """`additionalData` and the merge links of a page of incidents, in a constant number of
    queries."""
    incidents = list(incidents)
    ids = [i.pk for i in incidents]
    extras: dict[int, dict] = {
        pk: {
            "bookmarks": 0,
            "comments": 0,
            "products": set(),
            "tactics": set(),
            "techniques": set(),
            "merged_into": None,
            "merged_from": [],
        }
        for pk in ids
    }
    targets = {i.pk: i.merged_into_id for i in incidents if i.merged_into_id}
    # Merges stay inside a workspace, so the uuids are enough to name the incidents.
    links = (
        Incident.objects.filter(Q(merged_into_id__in=ids) | Q(pk__in=targets.values()))
        .order_by("number")
        .values_list("pk", "uuid", "merged_into_id")
    )
    uuids = {}
    for pk, key, into in links:
        uuids[pk] = key
        if into in extras:
            extras[into]["merged_from"].append(key)
    for pk, target in targets.items():
        extras[pk]["merged_into"] = uuids.get(target)
    bookmarks = (
        Relation.objects.filter(incident_id__in=ids, bookmark__isnull=False)
        .values("incident_id")
        .annotate(n=Count("id"))
    )
    for row in bookmarks:
        extras[row["incident_id"]]["bookmarks"] = row["n"]
    comments = (
        ActivityEntry.objects.filter(incident_id__in=ids, kind=ActivityKind.COMMENT)
        .values("incident_id")
        .annotate(n=Count("id"))
    )
    for row in comments:
        extras[row["incident_id"]]["comments"] = row["n"]
    alerts = Relation.objects.filter(incident_id__in=ids, alert__isnull=False).values_list(
        "incident_id", "alert__product_name", "alert__tactics", "alert__techniques"
    )
    for incident_pk, product, tactics, techniques in alerts:
        extra = extras[incident_pk]
        if product:
            extra["products"].add(product)
        extra["tactics"].update(tactics or [])
        extra["techniques"].update(techniques or [])
    return extras


def incident_resource(
    incident: Incident, workspace: Workspace, extra: dict, request: Request
) -> dict:
    return {
        "id": incident_id(incident, workspace),
        "name": str(incident.uuid),
        "type": "Microsoft.SecurityInsights/incidents",
        "etag": etag(incident.uuid, incident.modified.isoformat()),
        "properties": {
            "title": incident.title,
            "description": incident.description,
            "severity": incident.severity,
            "status": incident.status,
            "classification": incident.classification or None,
            "classificationReason": incident.classification_reason or None,
            "classificationComment": incident.classification_comment or None,
            "owner": _owner(incident),
            "labels": [
                {"labelName": str(label), "labelType": "User"} for label in incident.labels or []
            ],
            "incidentNumber": incident.number,
            "incidentUrl": request.build_absolute_uri(incident.get_absolute_url()),
            "providerName": incident.provider_name,
            "providerIncidentId": incident.provider_incident_id or None,
            "firstActivityTimeUtc": utc(incident.first_activity_time),
            "lastActivityTimeUtc": utc(incident.last_activity_time),
            "createdTimeUtc": utc(incident.created),
            "lastModifiedTimeUtc": utc(incident.modified),
            "relatedAnalyticRuleIds": [],
            "mergedInto": (
                incident_key_id(extra["merged_into"], workspace) if extra["merged_into"] else None
            ),
            "mergedIncidentIds": [incident_key_id(k, workspace) for k in extra["merged_from"]],
            "additionalData": {
                "alertsCount": incident.alert_count,
                "bookmarksCount": extra["bookmarks"],
                "commentsCount": extra["comments"],
                "alertProductNames": sorted(extra["products"]),
                "tactics": sorted(extra["tactics"]),
                "techniques": sorted(extra["techniques"]),
            },
        },
    }


def alert_resource(alert: Alert, workspace: Workspace) -> dict:
    return {
        "id": alert_resource_id(alert, workspace),
        "name": str(alert.system_alert_id),
        "type": "Microsoft.SecurityInsights/Entities",
        "kind": "SecurityAlert",
        "properties": {
            "systemAlertId": str(alert.system_alert_id),
            "alertDisplayName": alert.display_name,
            "friendlyName": alert.display_name,
            "alertType": alert.alert_type,
            "severity": alert.severity,
            "status": alert.status,
            "productName": alert.product_name,
            "providerAlertId": alert.provider_alert_id,
            "vendorName": alert.vendor_name,
            "startTimeUtc": utc(alert.start_time),
            "endTimeUtc": utc(alert.end_time),
            "timeGenerated": utc(alert.time_generated),
            "tactics": list(alert.tactics or []),
            "techniques": list(alert.techniques or []),
            "description": alert.description,
            "remediationSteps": list(alert.remediation_steps or []),
            "additionalData": dict(alert.extended_properties or {}),
        },
    }


def entity_name(entity: Entity) -> str:
    return str(
        uuid.uuid5(ENTITY_NAMESPACE, f"{entity.workspace_id}:{entity.kind}:{entity.identifier}")
    )


def entity_resource(entity: Entity, workspace: Workspace) -> dict:
    name = entity_name(entity)
    return {
        "id": f"{workspace.resource_id}/{INSIGHTS}/entities/{name}",
        "name": name,
        "type": "Microsoft.SecurityInsights/Entities",
        "kind": ENTITY_KINDS.get(entity.kind, entity.kind),
        "properties": {
            **(entity.properties or {}),
            "friendlyName": entity.display_name or entity.identifier,
        },
    }


def entities_response(entities: list[Entity], workspace: Workspace) -> dict:
    counts: dict[str, int] = defaultdict(int)
    for entity in entities:
        counts[entity.kind] += 1
    return {
        "entities": [entity_resource(e, workspace) for e in entities],
        "metaData": [
            {
                "entityKind": ENTITY_KINDS.get(kind, kind),
                "count": count,
                "entityFriendlyName": Entity(kind=kind).get_kind_display(),
            }
            for kind, count in sorted(counts.items())
        ],
    }


def comment_resource(entry: ActivityEntry, incident: Incident, workspace: Workspace) -> dict:
    name = entry.details.get("comment_id") or str(entry.pk)
    author = entry.actor
    return {
        "id": f"{incident_id(incident, workspace)}/comments/{name}",
        "name": name,
        "type": "Microsoft.SecurityInsights/Incidents/Comments",
        "etag": etag(entry.pk, name),
        "properties": {
            "message": entry.comment,
            "createdTimeUtc": utc(entry.created),
            "lastModifiedTimeUtc": utc(entry.created),
            "author": {
                "name": entry.actor_name,
                "email": (author.email or None) if author else None,
                "userPrincipalName": author.get_username() if author else None,
                "objectId": None,
            },
        },
    }
