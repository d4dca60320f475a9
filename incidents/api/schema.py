"""The OpenAPI description of the API (drf-spectacular): shapes, parameters, responses."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from incidents.api.access import API_VERSIONS


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "incidents.api.tokens.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from `python manage.py create_api_token USERNAME`.",
        }


class ErrorDetail(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class Error(serializers.Serializer):
    error = ErrorDetail()


class RelationProperties(serializers.Serializer):
    relatedResourceId = serializers.CharField()
    relatedResourceName = serializers.CharField(read_only=True)
    relatedResourceType = serializers.CharField(read_only=True)
    relatedResourceKind = serializers.CharField(read_only=True, allow_null=True)


class Relation(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    type = serializers.CharField()
    etag = serializers.CharField()
    properties = RelationProperties()


class RelationList(serializers.Serializer):
    value = Relation(many=True)
    nextLink = serializers.URLField(allow_null=True)


class RelationBodyProperties(serializers.Serializer):
    relatedResourceId = serializers.CharField(
        help_text=".../providers/Microsoft.SecurityInsights/entities/{systemAlertId} "
        "or .../bookmarks/{bookmarkId}"
    )


class RelationBody(serializers.Serializer):
    properties = RelationBodyProperties()


class Owner(serializers.Serializer):
    objectId = serializers.CharField(allow_null=True)
    email = serializers.CharField(allow_null=True)
    assignedTo = serializers.CharField(allow_null=True)
    userPrincipalName = serializers.CharField(allow_null=True)
    ownerType = serializers.ChoiceField(["User", "Group", "Unknown"])


class Label(serializers.Serializer):
    labelName = serializers.CharField()
    labelType = serializers.CharField()


class IncidentAdditionalData(serializers.Serializer):
    alertsCount = serializers.IntegerField()
    bookmarksCount = serializers.IntegerField()
    commentsCount = serializers.IntegerField()
    alertProductNames = serializers.ListField(child=serializers.CharField())
    tactics = serializers.ListField(child=serializers.CharField())
    techniques = serializers.ListField(child=serializers.CharField())


class IncidentProperties(serializers.Serializer):
    title = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    severity = serializers.CharField()
    status = serializers.CharField()
    classification = serializers.CharField(allow_null=True)
    classificationReason = serializers.CharField(allow_null=True)
    classificationComment = serializers.CharField(allow_null=True)
    owner = Owner()
    labels = Label(many=True)
    incidentNumber = serializers.IntegerField()
    incidentUrl = serializers.URLField()
    providerName = serializers.CharField()
    providerIncidentId = serializers.CharField(allow_null=True)
    firstActivityTimeUtc = serializers.DateTimeField(allow_null=True)
    lastActivityTimeUtc = serializers.DateTimeField(allow_null=True)
    createdTimeUtc = serializers.DateTimeField()
    lastModifiedTimeUtc = serializers.DateTimeField()
    relatedAnalyticRuleIds = serializers.ListField(child=serializers.CharField())
    mergedInto = serializers.CharField(
        allow_null=True,
        help_text="Triage extension: the resource id of the incident this one was merged "
        "into (it is then Closed, labelled Merged), or null.",
    )
    mergedIncidentIds = serializers.ListField(
        child=serializers.CharField(),
        help_text="Triage extension: the resource ids of the incidents merged into this one, "
        "by incident number.",
    )
    additionalData = IncidentAdditionalData()


class Incident(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.UUIDField()
    type = serializers.CharField()
    etag = serializers.CharField()
    properties = IncidentProperties()


class IncidentList(serializers.Serializer):
    value = Incident(many=True)
    nextLink = serializers.URLField(allow_null=True)


class AlertProperties(serializers.Serializer):
    systemAlertId = serializers.UUIDField()
    alertDisplayName = serializers.CharField()
    friendlyName = serializers.CharField()
    alertType = serializers.CharField(allow_blank=True)
    severity = serializers.CharField()
    status = serializers.CharField()
    productName = serializers.CharField(allow_blank=True)
    providerAlertId = serializers.CharField(allow_blank=True)
    vendorName = serializers.CharField(allow_blank=True)
    startTimeUtc = serializers.DateTimeField(allow_null=True)
    endTimeUtc = serializers.DateTimeField(allow_null=True)
    timeGenerated = serializers.DateTimeField()
    tactics = serializers.ListField(child=serializers.CharField())
    techniques = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField(allow_blank=True)
    remediationSteps = serializers.ListField(child=serializers.CharField())
    additionalData = serializers.DictField()


class SecurityAlert(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.UUIDField()
    type = serializers.CharField()
    kind = serializers.CharField()
    properties = AlertProperties()


class AlertList(serializers.Serializer):
    value = SecurityAlert(many=True)


class EntityResource(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.UUIDField()
    type = serializers.CharField()
    kind = serializers.CharField()
    properties = serializers.DictField()


class EntityKindCount(serializers.Serializer):
    entityKind = serializers.CharField()
    count = serializers.IntegerField()
    entityFriendlyName = serializers.CharField()


class EntityList(serializers.Serializer):
    entities = EntityResource(many=True)
    metaData = EntityKindCount(many=True)


class Author(serializers.Serializer):
    name = serializers.CharField()
    email = serializers.CharField(allow_null=True)
    userPrincipalName = serializers.CharField(allow_null=True)
    objectId = serializers.CharField(allow_null=True)


class CommentProperties(serializers.Serializer):
    message = serializers.CharField()
    createdTimeUtc = serializers.DateTimeField()
    lastModifiedTimeUtc = serializers.DateTimeField()
    author = Author()


class Comment(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    type = serializers.CharField()
    etag = serializers.CharField()
    properties = CommentProperties()


class CommentList(serializers.Serializer):
    value = Comment(many=True)
    nextLink = serializers.URLField(allow_null=True)


class CommentBodyProperties(serializers.Serializer):
    message = serializers.CharField()


class CommentBody(serializers.Serializer):
    properties = CommentBodyProperties()


class MergeBodyProperties(serializers.Serializer):
    sourceIncidentIds = serializers.ListField(
        child=serializers.CharField(),
        min_length=1,
        max_length=10,
        help_text="The incidents to merge into the one in the path: their ids (uuids, the "
        "incident's `name`) or resource ids (.../providers/Microsoft.SecurityInsights/"
        "incidents/{incidentId}), of the same workspace.",
    )
    reason = serializers.CharField(
        help_text="Why they belong together; written to every merged incident's activity."
    )


class MergeBody(serializers.Serializer):
    properties = MergeBodyProperties()


class WorkspaceProperties(serializers.Serializer):
    displayName = serializers.CharField()
    subscriptionId = serializers.UUIDField()
    resourceGroup = serializers.CharField()
    role = serializers.ChoiceField(["reader", "responder", "contributor"])


class WorkspaceResource(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    type = serializers.CharField()
    properties = WorkspaceProperties()


class WorkspaceList(serializers.Serializer):
    value = WorkspaceResource(many=True)


class IngestedRow(serializers.Serializer):
    systemAlertId = serializers.UUIDField()
    status = serializers.ChoiceField(["created", "updated", "unchanged"])
    incidents = serializers.ListField(
        child=serializers.IntegerField(), help_text="The numbers of the alert's incidents."
    )
    how = serializers.CharField(help_text="How the alert got there.")


class IngestResult(serializers.Serializer):
    value = IngestedRow(many=True)


class RowProblem(serializers.Serializer):
    code = serializers.CharField()
    target = serializers.CharField(help_text="The row's index in the request: `[3]`.")
    message = serializers.CharField()


class IngestErrorDetail(ErrorDetail):
    details = RowProblem(many=True, required=False)


class IngestError(serializers.Serializer):
    error = IngestErrorDetail()


API_VERSION = OpenApiParameter(
    "api-version",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    required=True,
    enum=list(API_VERSIONS),
    description="The API version (Sentinel's).",
)
TOP = OpenApiParameter(
    "$top", OpenApiTypes.INT, OpenApiParameter.QUERY, description="Page size, 1 to 1000 (50)."
)
SKIP_TOKEN = OpenApiParameter(
    "$skipToken",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    description="The cursor from a previous page's nextLink.",
)


def orderby(*choices: str) -> OpenApiParameter:
    return OpenApiParameter(
        "$orderby",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        description="One of: " + ", ".join(f"`{c} asc`, `{c} desc`" for c in choices),
    )


def odata_filter(example: str) -> OpenApiParameter:
    return OpenApiParameter(
        "$filter", OpenApiTypes.STR, OpenApiParameter.QUERY, description=f"e.g. `{example}`"
    )


def errors(*codes: int) -> dict:
    return {code: OpenApiResponse(Error, description="An error.") for code in (400, 401, *codes)}


LIST_PARAMS = [API_VERSION, TOP, SKIP_TOKEN]
TAGS = ["Incident relations"]

WORKSPACES = {
    "operation_id": "Workspaces_List",
    "summary": "List the workspaces the token may use, with the caller's role",
    "parameters": [API_VERSION],
    "responses": {200: WorkspaceList, **errors()},
    "tags": ["Workspaces"],
}
INCIDENT_LIST = {
    "operation_id": "Incidents_List",
    "summary": "List incidents",
    "parameters": [
        *LIST_PARAMS,
        orderby(
            "properties/createdTimeUtc",
            "properties/lastModifiedTimeUtc",
            "properties/incidentNumber",
        ),
        odata_filter("properties/status eq 'New' and properties/severity eq 'High'"),
    ],
    "responses": {200: IncidentList, **errors(403, 404)},
    "tags": ["Incidents"],
}
INCIDENT_GET = {
    "operation_id": "Incidents_Get",
    "summary": "Get an incident",
    "parameters": [API_VERSION],
    "responses": {200: Incident, **errors(403, 404)},
    "tags": ["Incidents"],
}
INCIDENT_ALERTS = {
    "operation_id": "Incidents_ListAlerts",
    "summary": "List an incident's alerts (SecurityAlert entities)",
    "parameters": [API_VERSION],
    "request": None,
    "responses": {200: AlertList, **errors(403, 404)},
    "tags": ["Incidents"],
}
INCIDENT_ENTITIES = {
    "operation_id": "Incidents_ListEntities",
    "summary": "List an incident's entities",
    "parameters": [API_VERSION],
    "request": None,
    "responses": {200: EntityList, **errors(403, 404)},
    "tags": ["Incidents"],
}
RELATION_LIST = {
    "operation_id": "IncidentRelations_List",
    "summary": "List an incident's relations",
    "parameters": [
        *LIST_PARAMS,
        orderby("name"),
        odata_filter("properties/relatedResourceType eq 'Microsoft.SecurityInsights/entities'"),
    ],
    "responses": {200: RelationList, **errors(403, 404)},
    "tags": TAGS,
}
RELATION_GET = {
    "operation_id": "IncidentRelations_Get",
    "summary": "Get a relation",
    "parameters": [API_VERSION],
    "responses": {200: Relation, **errors(403, 404)},
    "tags": TAGS,
}
RELATION_PUT = {
    "operation_id": "IncidentRelations_CreateOrUpdate",
    "summary": "Add an alert (or bookmark) to an incident",
    "parameters": [API_VERSION],
    "request": RelationBody,
    "responses": {
        200: OpenApiResponse(Relation, description="The relation already existed."),
        201: OpenApiResponse(Relation, description="Created."),
        **errors(403, 404, 409),
    },
    "tags": TAGS,
}
RELATION_DELETE = {
    "operation_id": "IncidentRelations_Delete",
    "summary": "Remove an alert (or bookmark) from an incident",
    "parameters": [API_VERSION],
    "responses": {
        200: OpenApiResponse(description="Deleted."),
        204: OpenApiResponse(description="There was no such relation."),
        **errors(403, 404),
    },
    "tags": TAGS,
}
COMMENT_LIST = {
    "operation_id": "IncidentComments_List",
    "summary": "List an incident's comments",
    "parameters": [*LIST_PARAMS, orderby("properties/createdTimeUtc")],
    "responses": {200: CommentList, **errors(403, 404)},
    "tags": ["Comments"],
}
COMMENT_GET = {
    "operation_id": "IncidentComments_Get",
    "summary": "Get a comment",
    "parameters": [API_VERSION],
    "responses": {200: Comment, **errors(403, 404)},
    "tags": ["Comments"],
}
COMMENT_PUT = {
    "operation_id": "IncidentComments_CreateOrUpdate",
    "summary": "Comment on an incident",
    "parameters": [API_VERSION],
    "request": CommentBody,
    "responses": {
        200: OpenApiResponse(Comment, description="The same comment already existed."),
        201: OpenApiResponse(Comment, description="Created."),
        **errors(403, 404, 409),
    },
    "tags": ["Comments"],
}
INCIDENT_MERGE = {
    "operation_id": "Incidents_Merge",
    "summary": "Merge incidents into this one (Triage extension)",
    "description": (
        "Every alert of the source incidents joins this (target) incident, an alert already "
        "there staying once; their comments are copied here with their author and time; the "
        "target takes the highest severity and the union of the labels. Each source is "
        "closed as Undetermined, labelled `Merged`, and keeps working in the API with "
        "`properties.mergedInto` naming the target. All or nothing: a refusal (a source that "
        "is the target, a Defender XDR incident, more than the alert cap in the result, an "
        "incident already merged) changes nothing. Sending the same request again is refused "
        "with a 400 (the sources were already merged) and changes nothing. Answers with the "
        "target as `GET incidents/{incidentId}` does; its `properties.mergedIncidentIds` "
        "lists every incident merged into it, these sources included. Needs a responder's "
        "token."
    ),
    "parameters": [API_VERSION],
    "request": MergeBody,
    "responses": {
        200: OpenApiResponse(Incident, description="Merged: the target incident."),
        **errors(403, 404),
    },
    "tags": ["Incidents"],
}
INGEST = {
    "operation_id": "Alerts_Ingest",
    "summary": "Ingest SecurityAlert rows (a JSON array, or JSON lines)",
    "description": (
        "Rows as Microsoft Sentinel's SecurityAlert table holds them (`SystemAlertId` and "
        "`AlertName` or `DisplayName` required; `Entities` and `ExtendedProperties` as JSON "
        "strings or parsed). At most 1,000 rows or 10 MiB a request. Every row is checked "
        "first: one bad row refuses the request, with every bad row's index and reason in "
        "`error.details`, and nothing is stored. A new alert joins its Defender XDR incident "
        "or a new incident; a row sent again updates its alert and duplicates nothing. Needs "
        "a contributor's token, or one made with `create_api_token USER --workspace W "
        "--scope ingest`."
    ),
    "parameters": [API_VERSION],
    "request": {
        "application/json": {"type": "array", "items": {"type": "object"}},
        "application/x-ndjson": {"type": "string"},
    },
    "responses": {
        200: IngestResult,
        400: OpenApiResponse(IngestError, description="Bad rows; nothing was stored."),
        401: OpenApiResponse(Error, description="An error."),
        403: OpenApiResponse(Error, description="An error."),
        404: OpenApiResponse(Error, description="An error."),
        413: OpenApiResponse(Error, description="The body is over 10 MiB."),
    },
    "tags": ["Ingestion"],
}
