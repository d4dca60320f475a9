"""The domain: workspaces, incidents, alerts, entities, relations and the activity log.

Nothing here changes alert membership: `incidents.membership` owns every write of a
`Relation` and of `Incident.alert_count`.
"""

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from incidents.text import reveal_bidi


class Role(models.TextChoices):
    READER = "reader", "Reader"
    RESPONDER = "responder", "Responder"
    CONTRIBUTOR = "contributor", "Contributor"


# What each role may do, weakest first; a role may do everything below it.
ROLE_RANK = {Role.READER: 0, Role.RESPONDER: 1, Role.CONTRIBUTOR: 2}


class Severity(models.TextChoices):
    HIGH = "High"
    MEDIUM = "Medium"
    LOW = "Low"
    INFORMATIONAL = "Informational"


# Most severe first, for "the highest severity of these alerts".
SEVERITY_ORDER = [Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFORMATIONAL]


def severity_rank_expression() -> models.Case:
    """The severity as a number, most severe highest (High 4 … Informational 1), so that
    "-severity_rank" reads "most severe first" and an index can give that order."""
    return models.Case(
        *(
            models.When(severity=s, then=models.Value(len(SEVERITY_ORDER) - i))
            for i, s in enumerate(SEVERITY_ORDER)
        ),
        default=models.Value(0),
        output_field=models.PositiveSmallIntegerField(),
    )


class IncidentStatus(models.TextChoices):
    NEW = "New"
    ACTIVE = "Active"
    CLOSED = "Closed"


class Classification(models.TextChoices):
    UNDETERMINED = "Undetermined"
    TRUE_POSITIVE = "TruePositive", "True Positive"
    BENIGN_POSITIVE = "BenignPositive", "Benign Positive"
    FALSE_POSITIVE = "FalsePositive", "False Positive"


class ClassificationReason(models.TextChoices):
    SUSPICIOUS_ACTIVITY = "SuspiciousActivity", "Suspicious activity"
    SUSPICIOUS_BUT_EXPECTED = "SuspiciousButExpected", "Suspicious but expected"
    INCORRECT_ALERT_LOGIC = "IncorrectAlertLogic", "Incorrect alert logic"
    INACCURATE_DATA = "InaccurateData", "Inaccurate data"


# Which reasons go with which classification (Sentinel's pairs).
CLASSIFICATION_REASONS = {
    Classification.UNDETERMINED: [],
    Classification.TRUE_POSITIVE: [ClassificationReason.SUSPICIOUS_ACTIVITY],
    Classification.BENIGN_POSITIVE: [ClassificationReason.SUSPICIOUS_BUT_EXPECTED],
    Classification.FALSE_POSITIVE: [
        ClassificationReason.INCORRECT_ALERT_LOGIC,
        ClassificationReason.INACCURATE_DATA,
    ],
}


class AlertStatus(models.TextChoices):
    NEW = "New"
    IN_PROGRESS = "InProgress", "In progress"
    RESOLVED = "Resolved"
    DISMISSED = "Dismissed"
    UNKNOWN = "Unknown"


class EntityKind(models.TextChoices):
    ACCOUNT = "account", "Account"
    HOST = "host", "Host"
    IP = "ip", "IP"
    URL = "url", "URL"
    FILEHASH = "filehash", "File hash"
    FILE = "file", "File"
    PROCESS = "process", "Process"
    MAILBOX = "mailbox", "Mailbox"
    MAIL_MESSAGE = "mailmessage", "Mail message"
    CLOUD_APPLICATION = "cloudapplication", "Cloud application"
    DNS = "dns", "DNS"
    REGISTRY_KEY = "registrykey", "Registry key"
    REGISTRY_VALUE = "registryvalue", "Registry value"
    AZURE_RESOURCE = "azureresource", "Azure resource"
    MALWARE = "malware", "Malware"
    SECURITY_GROUP = "securitygroup", "Security group"
    IOT_DEVICE = "iotdevice", "IoT device"
    MAIL_CLUSTER = "mailcluster", "Mail cluster"
    SUBMISSION_MAIL = "submissionmail", "Submission mail"
    CLOUD_LOGON_SESSION = "cloudlogonsession", "Cloud logon session"
    CLOUD_LOGON_REQUEST = "cloudlogonrequest", "Cloud logon request"
    OAUTH_APPLICATION = "oauthapplication", "OAuth application"
    # A type Triage does not know: kept with its raw properties and its type name.
    OTHER = "other", "Other"


class Via(models.TextChoices):
    """The channel through which a change was made."""

    UI = "ui", "Web app"
    API = "api", "API"
    RULE = "rule", "Automation rule"
    INGESTION = "ingestion", "Ingestion"
    ADMIN = "admin", "Admin site"


# A channel's label from a dict: `get_via_display` rebuilds the choices on every call, and
# the Activity tab names the channel of 50 entries.
VIA_LABELS = dict(Via.choices)


class Workspace(models.Model):
    name = models.SlugField(max_length=90, unique=True)
    display_name = models.CharField(max_length=200, blank=True)
    subscription_id = models.UUIDField(default=uuid.uuid4)
    resource_group = models.CharField(max_length=90, default="triage")
    # The next incident number to hand out; see `incidents.numbering`.
    next_incident_number = models.PositiveBigIntegerField(default=1, editable=False)
    # The correlation rules' automatic guard: an entity in more than this share of the
    # workspace's alerts of the last 7 days does not join alerts by itself.
    common_entity_share = models.FloatField(default=0.05)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return reveal_bidi(self.display_name or self.name)

    @property
    def resource_id(self) -> str:
        """The workspace's Azure-style resource id, as Sentinel's API spells it."""
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.OperationalInsights/workspaces/{self.name}"
        )


class Membership(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role, default=Role.READER)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="membership_unique_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"

    def allows(self, role: Role) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(role)]


class Incident(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="incidents")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.PositiveBigIntegerField(editable=False)
    title = models.CharField(max_length=256)
    description = models.TextField(blank=True)
    severity = models.CharField(max_length=16, choices=Severity, default=Severity.MEDIUM)
    # Stored, so the queue sorts by severity from an index.
    severity_rank = models.GeneratedField(
        expression=severity_rank_expression(),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
    )
    status = models.CharField(max_length=16, choices=IncidentStatus, default=IncidentStatus.NEW)
    classification = models.CharField(max_length=32, choices=Classification, blank=True)
    classification_reason = models.CharField(
        max_length=32, choices=ClassificationReason, blank=True
    )
    classification_comment = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_incidents",
    )
    labels = models.JSONField(default=list, blank=True)
    # Its alerts' products and tactics, sorted: kept by `incidents.entity_index`.
    products = models.JSONField(default=list, blank=True, editable=False)
    tactics = models.JSONField(default=list, blank=True, editable=False)
    provider_name = models.CharField(max_length=100, default="Triage")
    provider_incident_id = models.CharField(max_length=200, blank=True)
    first_activity_time = models.DateTimeField(null=True, blank=True)
    last_activity_time = models.DateTimeField(null=True, blank=True)
    # Kept by `incidents.membership` under the incident's row lock.
    alert_count = models.PositiveIntegerField(default=0, editable=False)
    # The correlation rule that made the incident, and the group key it made it for
    # (`incidents.rules`): later alerts of the same group find it by them.
    correlation_rule = models.ForeignKey(
        "CorrelationRule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="incidents",
    )
    group_key = models.CharField(max_length=64, blank=True, editable=False)
    # The full incident (at the alert cap) whose alerts this one goes on with.
    continues = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="continued_by"
    )
    # Set when the incident was merged into another one (`membership.merge_incidents`).
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="merged_from",
    )
    closed = models.DateTimeField(null=True, blank=True, editable=False)
    created = models.DateTimeField(default=timezone.now)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "number"], name="incident_unique_number"),
            models.CheckConstraint(
                condition=Q(classification="") | Q(status=IncidentStatus.CLOSED),
                name="incident_classified_only_when_closed",
            ),
        ]
        indexes = [
            # The queue: open incidents by last activity, and every sortable column.
            models.Index(
                "workspace",
                "status",
                F("last_activity_time").desc(),
                F("number").desc(),
                name="incident_queue_idx",
            ),
            models.Index(
                "workspace",
                F("last_activity_time").desc(),
                F("number").desc(),
                name="incident_activity_idx",
            ),
            models.Index("workspace", "severity", "status", name="incident_severity_idx"),
            models.Index("workspace", "severity_rank", "number", name="incident_severity_rank_idx"),
            # Sort the queue by title and by alert count (the number breaks ties).
            models.Index("workspace", "title", "number", name="incident_title_idx"),
            models.Index("workspace", "alert_count", "number", name="incident_alert_count_idx"),
            models.Index("workspace", "owner", "status", name="incident_owner_idx"),
            # Sorting by owner reads each owner's incidents by number (`incident_page`).
            models.Index("workspace", "owner", "number", name="incident_owner_number_idx"),
            # Sorting by status pages through the queue by this index.
            models.Index("workspace", "status", "number", name="incident_status_number_idx"),
            models.Index("workspace", "provider_name", "status", name="incident_provider_idx"),
            models.Index("workspace", F("created").desc(), name="incident_created_idx"),
            # The rules find the newest incident of a group.
            models.Index(
                "correlation_rule",
                "group_key",
                F("first_activity_time").desc(),
                condition=~Q(group_key=""),
                name="incident_rule_group_idx",
            ),
            # Ingestion finds a provider's incident (Defender XDR's IncidentId) by its id.
            models.Index(
                "workspace",
                "provider_incident_id",
                condition=~Q(provider_incident_id=""),
                name="incident_provider_id_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {reveal_bidi(self.title)}"

    def get_absolute_url(self) -> str:
        return reverse("incidents:incident", kwargs={"number": self.number})

    @property
    def is_closed(self) -> bool:
        return self.status == IncidentStatus.CLOSED


class Alert(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="alerts")
    system_alert_id = models.UUIDField(default=uuid.uuid4, unique=True)
    display_name = models.CharField(max_length=256)
    alert_type = models.CharField(max_length=256, blank=True)
    severity = models.CharField(max_length=16, choices=Severity, default=Severity.MEDIUM)
    # Stored, so the queue sorts by severity from an index.
    severity_rank = models.GeneratedField(
        expression=severity_rank_expression(),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
    )
    status = models.CharField(max_length=16, choices=AlertStatus, default=AlertStatus.NEW)
    product_name = models.CharField(max_length=200, blank=True)
    provider_name = models.CharField(max_length=200, blank=True)
    vendor_name = models.CharField(max_length=200, blank=True)
    provider_alert_id = models.CharField(max_length=200, blank=True)
    start_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    time_generated = models.DateTimeField()
    tactics = models.JSONField(default=list, blank=True)
    techniques = models.JSONField(default=list, blank=True)
    description = models.TextField(blank=True)
    remediation_steps = models.JSONField(default=list, blank=True)
    extended_properties = models.JSONField(default=dict, blank=True)
    # The source row's columns that no field above holds (ConfidenceScore, AlertLink, …),
    # by their original names, so nothing of what was ingested is lost.
    source_fields = models.JSONField(default=dict, blank=True)
    entities = models.ManyToManyField("Entity", related_name="alerts", blank=True)
    created = models.DateTimeField(default=timezone.now)
    # When ingestion last changed the alert (a re-sent row with a new status, end time, …),
    # and the TimeGenerated of the newest row applied: an older row does not undo it.
    updated = models.DateTimeField(null=True, blank=True)
    row_generated = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-time_generated", "-id"]
        indexes = [
            models.Index(
                "workspace", F("time_generated").desc(), F("id").desc(), name="alert_queue_idx"
            ),
            models.Index("workspace", "severity", name="alert_severity_idx"),
            # Sorts the queue by severity (the id breaks ties).
            models.Index("workspace", "severity_rank", "id", name="alert_severity_rank_idx"),
            # The filters' choice lists walk these from one value to the next; the product's
            # also sorts the queue by product (the id breaks ties).
            models.Index("workspace", "product_name", "id", name="alert_product_id_idx"),
            models.Index("workspace", "provider_name", name="alert_provider_idx"),
            # Filters by status, and sorts by it (the id breaks ties).
            models.Index("workspace", "status", "id", name="alert_status_id_idx"),
            # Sorts the queue by name.
            models.Index("workspace", "display_name", "id", name="alert_name_id_idx"),
        ]

    def __str__(self) -> str:
        return reveal_bidi(self.display_name)

    def get_absolute_url(self) -> str:
        return reverse("incidents:alert", kwargs={"system_alert_id": self.system_alert_id})


class Entity(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="entities")
    kind = models.CharField(max_length=32, choices=EntityKind)
    # Normalized by `incidents.entities.normalize_identifier`, so one thing is one row.
    identifier = models.CharField(max_length=512)
    display_name = models.CharField(max_length=512, blank=True)
    properties = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "entities"
        ordering = ["kind", "identifier"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "kind", "identifier"], name="entity_unique_identifier"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {reveal_bidi(self.display_name or self.identifier)}"


class IncidentEntity(models.Model):
    """An entity of an incident (one of its alerts involves it), and whether the incident is
    open. Kept by `incidents.entity_index` whenever membership, an alert's entities or an
    incident's status change, so a page counts an entity's other open incidents from these
    rows instead of joining every alert the entity was ever seen in."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="+", db_index=False)
    open = models.BooleanField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entity", "incident"], name="incident_entity_unique"),
        ]
        indexes = [
            # The open incidents an entity is in, counted from the index alone.
            models.Index(
                "entity", "incident", condition=Q(open=True), name="incident_entity_open_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entity_id} in {self.incident_id}"


class AlertDay(models.Model):
    """How many of a workspace's alerts were generated on a day (UTC), and, per entity, how
    many of them involve it (`entity` set). Kept by `incidents.alert_days` as alerts and
    their entities arrive, so the rules' "too common" guard reads a week as a few rows
    instead of counting a week of alerts for every batch and every entity panel."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    # Null: all the workspace's alerts of the day.
    entity = models.ForeignKey(
        Entity, on_delete=models.CASCADE, related_name="+", null=True, db_index=False
    )
    day = models.DateField()
    # Changed by adding to it (a removed link adds -1), so no positive CHECK in the way.
    alerts = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "day"],
                condition=Q(entity__isnull=False),
                name="alert_day_entity_unique",
            ),
            models.UniqueConstraint(
                fields=["workspace", "day"],
                condition=Q(entity__isnull=True),
                name="alert_day_workspace_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.alerts}"


class EntityIdentifier(models.Model):
    """One identity key of an entity (Sentinel's identifiers): records sharing a key are one.

    Keys come from `incidents.ingest.entities`, e.g. `upn:bjenkins@niseko.example`; an
    entity known only by a weak key (a bare host name) has that one key and no other.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="identifiers")
    kind = models.CharField(max_length=32, choices=EntityKind)
    key = models.CharField(max_length=512)
    strong = models.BooleanField(default=True)

    class Meta:
        constraints = [
            # Looked up by key for a whole batch of rows: key before kind.
            models.UniqueConstraint(
                fields=["workspace", "key", "kind"], name="entity_identifier_unique_key"
            ),
        ]

    def __str__(self) -> str:
        return self.key


class Bookmark(models.Model):
    """A saved hunting result; a relation can point at one instead of an alert."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="bookmarks")
    bookmark_id = models.UUIDField(default=uuid.uuid4, unique=True)
    display_name = models.CharField(max_length=256)
    query = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return reveal_bidi(self.display_name)


class RelationReason(models.TextChoices):
    """Why a resource was related to an incident."""

    INGESTION = "ingestion", "Created with the incident"
    MANUAL = "manual", "Added by an analyst"
    API = "api", "Added through the API"
    RULE = "rule", "Correlated by an automation rule"


class Relation(models.Model):
    """An incident's link to an alert or a bookmark. Written only by `incidents.membership`."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="relations")
    # The API's relationName.
    name = models.CharField(max_length=256)
    alert = models.ForeignKey(
        Alert, on_delete=models.CASCADE, null=True, blank=True, related_name="relations"
    )
    bookmark = models.ForeignKey(
        Bookmark, on_delete=models.CASCADE, null=True, blank=True, related_name="relations"
    )
    reason = models.CharField(max_length=16, choices=RelationReason)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    # A system actor (rule, ingestion) when no user made the link.
    created_by_name = models.CharField(max_length=200, blank=True)
    # The rule's matched entities, the comment, where the alert came from.
    details = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created", "id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "name"], name="relation_unique_name"),
            models.UniqueConstraint(
                fields=["incident", "alert"],
                condition=Q(alert__isnull=False),
                name="relation_unique_alert",
            ),
            models.UniqueConstraint(
                fields=["incident", "bookmark"],
                condition=Q(bookmark__isnull=False),
                name="relation_unique_bookmark",
            ),
            models.CheckConstraint(
                condition=(
                    Q(alert__isnull=False, bookmark__isnull=True)
                    | Q(alert__isnull=True, bookmark__isnull=False)
                ),
                name="relation_one_resource",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.incident} ↔ {self.alert or self.bookmark}"

    @property
    def resource(self) -> Alert | Bookmark:
        return self.alert or self.bookmark


class ActivityKind(models.TextChoices):
    CREATED = "created", "Incident created"
    ALERT_CORRELATED = "alert_correlated", "Alert correlated"
    ALERT_ADDED = "alert_added", "Alert added"
    ALERT_REMOVED = "alert_removed", "Alert removed"
    ALERT_MOVED_IN = "alert_moved_in", "Alert moved in"
    ALERT_MOVED_OUT = "alert_moved_out", "Alert moved out"
    BOOKMARK_ADDED = "bookmark_added", "Bookmark added"
    BOOKMARK_REMOVED = "bookmark_removed", "Bookmark removed"
    COMMENT = "comment", "Comment"
    STATUS = "status", "Status changed"
    OWNER = "owner", "Owner changed"
    SEVERITY = "severity", "Severity changed"
    LABELS = "labels", "Labels changed"
    CLOSED = "closed", "Closed"
    REOPENED = "reopened", "Reopened"
    CONTINUED = "continued", "Continued in another incident"
    MERGED_IN = "merged_in", "Incident merged in"
    MERGED_INTO = "merged_into", "Merged into another incident"
    UNDONE = "undone", "Change undone"


class ActivityQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("The activity log is append-only.")

    def delete(self):
        raise TypeError("The activity log is append-only.")


class ActivityEntry(models.Model):
    """One line of an incident's append-only activity log. Written by `incidents.activity`."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="activity")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    # The user's name when the entry was written, or a system actor's name.
    actor_name = models.CharField(max_length=200)
    via = models.CharField(max_length=16, choices=Via)
    kind = models.CharField(max_length=32, choices=ActivityKind)
    message = models.TextField()
    comment = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(default=timezone.now)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "activity entries"
        ordering = ["-created", "-id"]
        indexes = [
            models.Index("incident", F("created").desc(), F("id").desc(), name="activity_idx"),
        ]

    def __str__(self) -> str:
        return reveal_bidi(self.message)

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("The activity log is append-only.")
        # An insert or nothing: a preset primary key must not overwrite an entry.
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The activity log is append-only.")

    @property
    def channel(self) -> str:
        """The channel to name beside the actor ("via API"), or "" when it goes without
        saying: the web app, or a system actor whose name already says it ("Ingestion" via
        Ingestion, rule “X” via Automation rule)."""
        if self.via == Via.UI:
            return ""
        label = VIA_LABELS.get(self.via, self.via)
        first = self.actor_name.split(maxsplit=1)[:1]
        if first and first[0].casefold() == label.split()[-1].casefold():
            return ""
        return label


class GroupingMethod(models.TextChoices):
    ANY_ALERT = "any_alert", "All matching alerts into one incident"
    ALL_ENTITIES = "all_entities", "Alerts whose entities all match"
    SELECTED = "selected", "Alerts that match on the selected entities and details"
    SHARED_ENTITY = "shared_entity", "Alerts that share a strong entity of the selected kinds"


class CorrelationRule(models.Model):
    """An ordered rule that groups new alerts into incidents (`incidents.rules`)."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="correlation_rules"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    enabled = models.BooleanField(default=True)
    # Rules run in ascending order; the first that finds or makes an incident wins.
    order = models.PositiveIntegerField(default=0)
    # Conditions: all must hold; empty ones hold for every alert.
    name_contains = models.CharField(max_length=256, blank=True)
    name_equals = models.CharField(max_length=256, blank=True)
    product_names = models.JSONField(default=list, blank=True)
    provider_names = models.JSONField(default=list, blank=True)
    min_severity = models.CharField(max_length=16, choices=Severity, blank=True)
    tactics = models.JSONField(default=list, blank=True)
    alert_types = models.JSONField(default=list, blank=True)
    entity_kinds_present = models.JSONField(default=list, blank=True)
    # Grouping.
    method = models.CharField(
        max_length=16, choices=GroupingMethod, default=GroupingMethod.SHARED_ENTITY
    )
    # SELECTED and SHARED_ENTITY: the entity kinds that must match / be shared.
    entity_kinds = models.JSONField(default=list, blank=True)
    # SELECTED: alert details ("name", "severity", "product") and ExtendedProperties keys.
    match_details = models.JSONField(default=list, blank=True)
    custom_details = models.JSONField(default=list, blank=True)
    window = models.DurationField(default=dt.timedelta(hours=5))
    reopen_closed = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)
    last_matched = models.DateTimeField(null=True, blank=True, editable=False)
    matched_count = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["workspace", "order", "id"]

    def __str__(self) -> str:
        return reveal_bidi(self.name)

    def get_absolute_url(self) -> str:
        return reverse("incidents:rule", kwargs={"rule_id": self.pk})


class RuleChange(models.Model):
    """Who changed a rule, when and what (shown on the rule's page)."""

    rule = models.ForeignKey(CorrelationRule, on_delete=models.CASCADE, related_name="changes")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    actor_name = models.CharField(max_length=200)
    summary = models.CharField(max_length=500)
    # Field → [before, after].
    changes = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return self.summary


class CorrelationExclusion(models.Model):
    """A value "too common to correlate on": it never joins alerts by itself."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="correlation_exclusions"
    )
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="exclusions")
    reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "entity"], name="exclusion_unique_entity"),
        ]

    def __str__(self) -> str:
        return f"{self.entity} (excluded)"


class ChangeKind(models.TextChoices):
    MOVE = "move", "Link alerts to another incident"
    MERGE = "merge", "Merge incidents"
    REMOVE = "remove", "Remove alert"


class MembershipChange(models.Model):
    """A membership change that can be undone, with what it did so its inverse can run.

    Written and read by `incidents.membership.undo`; `data` holds the relations the change
    deleted (whole rows) and created, the incidents it closed or created, and each alert's
    incidents right after it, which is what an undo checks nothing has changed since.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=ChangeKind)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    actor_name = models.CharField(max_length=200)
    # "3 alerts linked to #40", for the undo's notification and activity entry.
    summary = models.CharField(max_length=300)
    incidents = models.ManyToManyField(Incident, related_name="membership_changes")
    data = models.JSONField(default=dict)
    created = models.DateTimeField(default=timezone.now)
    undone = models.DateTimeField(null=True, blank=True)
    undone_by_name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return self.summary


class TokenScope(models.TextChoices):
    ALL = "all", "Everything the user may do"
    INGEST = "ingest", "Alert ingestion only"


class ApiToken(models.Model):
    """A user's bearer token for the REST API. Only its SHA-256 digest is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    # When set, the token works in this workspace only.
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, null=True, blank=True, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    scope = models.CharField(max_length=16, choices=TokenScope, default=TokenScope.ALL)
    # The first characters, so a user can tell tokens apart without the secret.
    prefix = models.CharField(max_length=16, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(default=timezone.now, editable=False)
    last_used = models.DateTimeField(null=True, blank=True, editable=False)
    revoked = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked is None


class SubmittedForm(models.Model):
    """A form's one-time token, claimed with its change: a repeat is answered, not applied."""

    token = models.UUIDField(unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submitted_forms"
    )
    created = models.DateTimeField(default=timezone.now, editable=False)
    # What the first answer said (status, HX-Trigger, Location), to say it again.
    response_summary = models.JSONField(default=dict)

    def __str__(self) -> str:
        return str(self.token)
