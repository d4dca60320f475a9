"""The admin site, for data fixes by staff.

Alert membership changes only through `incidents.membership` (the alert actions), so the
rules of DESIGN.md hold here too; relations and the activity log are read-only, and
incidents and alerts cannot be deleted (the log and every alert's incident depend on them).
Big tables order by primary key, skip the unfiltered count and facet counts, and list a
text column's values by walking an index, so their changelists stay fast on millions of
rows.
"""

import re
from collections.abc import Callable, Sequence
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection, connections, transaction
from django.db.models import Field, Model, Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import smart_split

from incidents import actions, facets, membership
from incidents.activity import Actor
from incidents.entities import normalize_identifier
from incidents.errors import TriageError
from incidents.filters import SEARCH_LENGTH, SEARCH_TERMS, SHORTENED
from incidents.models import (
    ActivityEntry,
    Alert,
    ApiToken,
    Bookmark,
    Classification,
    Entity,
    EntityIdentifier,
    EntityKind,
    Incident,
    Membership,
    Relation,
    Via,
    Workspace,
)
from incidents.rules.defaults import install_default_rules
from incidents.text import reveal_bidi

# "#123" in a search, as incidents are written everywhere else (at most a bigint's digits).
INCIDENT_REFERENCE = re.compile(r"(?<!\S)#(\d{1,18})(?!\S)")


def revealed(field: str, description: str) -> Callable[[Model], str]:
    """A changelist column showing `field` with its bidirectional control characters
    written out (`incidents.text`), as the app shows names."""

    @admin.display(description=description, ordering=field)
    def column(obj: Model) -> str:
        return reveal_bidi(getattr(obj, field))

    return column


TITLE = revealed("title", "title")
DISPLAY_NAME = revealed("display_name", "display name")
IDENTIFIER = revealed("identifier", "identifier")
ACTOR_NAME = revealed("actor_name", "actor name")
MESSAGE = revealed("message", "message")


def admin_actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user, via=Via.ADMIN)


def change_url(obj: Model) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def incident_links(incidents: Sequence[Incident]) -> SafeString:
    return format_html_join(
        ", ",
        '<a href="{}">#{}</a>',
        ((change_url(i), i.number) for i in sorted(incidents, key=lambda i: i.number)),
    )


def numbers(incidents: Sequence[Incident]) -> str:
    return ", ".join(f"#{i.number}" for i in sorted(incidents, key=lambda i: i.number))


def counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def log_changes(request: HttpRequest, objects: Sequence[Model], message: str) -> None:
    """Admin history for an action's objects, one insert for all of them."""
    if objects:
        LogEntry.objects.log_actions(request.user.pk, objects, CHANGE, message)


class BoundedSearch:
    """Admin search on what the app's search boxes take (`parse_search`'s bounds): a
    thousand words were a thousand clauses, which SQLite refuses."""

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        # smart_split, as the admin splits: a "quoted phrase" stays one term.
        terms = list(smart_split(search_term[:SEARCH_LENGTH]))
        bounded = " ".join(terms[:SEARCH_TERMS])
        if bounded != " ".join(smart_split(search_term)) and _is_changelist(request):
            messages.warning(request, SHORTENED)
        return super().get_search_results(request, queryset, bounded)


def _is_changelist(request: HttpRequest) -> bool:
    # The autocomplete searches too, but its JSON has no place for a message.
    match = request.resolver_match
    return match is not None and (match.url_name or "").endswith("_changelist")


class IncidentReferenceSearch(BoundedSearch):
    """Search where "#123" means incident number 123 only; "#1 #2" finds either."""

    incident_number_lookup = "number"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        references = [int(n) for n in INCIDENT_REFERENCE.findall(search_term)]
        if references:
            queryset = queryset.filter(**{f"{self.incident_number_lookup}__in": references})
        rest = INCIDENT_REFERENCE.sub("", search_term).strip()
        return super().get_search_results(request, queryset, rest)


class NoWrites:
    """Viewable with view permission; nobody adds, changes or deletes, not even superusers."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ReadOnlyInline(NoWrites, admin.TabularInline):
    extra = 0
    can_delete = False


def relation_creator(relation: Relation) -> str:
    return relation.created_by.get_username() if relation.created_by else relation.created_by_name


# --- workspaces and memberships ---------------------------------------------


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ["user", "role", "created"]
    readonly_fields = ["created"]
    autocomplete_fields = ["user"]
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("user")


class EstimatedCountPaginator(Paginator):
    """Counts a big table on PostgreSQL without scanning it: unfiltered, from the table's
    statistics; filtered or searched, exactly up to `facets.EXACT_UP_TO` rows and past
    that from the planner's estimate (`facets.count_matching`). `estimate` is set when
    the count is one, and the changelist then says "about".
    """

    EXACT_BELOW = 100_000
    estimate: facets.Total | None = None

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet) or connections[queryset.db].vendor != "postgresql":
            return super().count
        if queryset.query.where:
            total = facets.count_matching(queryset)
        else:
            with connections[queryset.db].cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [queryset.model._meta.db_table],
                )
                row = cursor.fetchone()
            if not (row and row[0] >= self.EXACT_BELOW):
                return super().count
            total = facets.Total(row[0], exact=False)
        if not total.exact:
            self.estimate = total
        return total.value


class BigTable:
    """A changelist over millions of rows: newest first by primary key, counted without
    a scan (`EstimatedCountPaginator`), no facet counts (each would count the whole
    table); its text-column filters are `IndexedValuesFilter`s."""

    ordering = ["-pk"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    show_facets = admin.ShowFacets.NEVER


def workspaces_of(request: HttpRequest) -> list[Workspace]:
    """Every workspace, read once per request: the workspace filter lists them and the
    value filters walk each one's index."""
    if not hasattr(request, "_admin_workspaces"):
        request._admin_workspaces = list(Workspace.objects.all())
    return request._admin_workspaces


class WorkspaceFilter(admin.RelatedFieldListFilter):
    """The workspace filter, from the one read of the workspaces the value filters use."""

    def field_choices(
        self, field: Field, request: HttpRequest, model_admin: admin.ModelAdmin
    ) -> list[tuple[int, str]]:
        return [(w.pk, str(w)) for w in workspaces_of(request)]


class IndexedValuesFilter(admin.AllValuesFieldListFilter):
    """The non-empty values of a text column, found by walking its (workspace, column)
    index one value at a time (`incidents.facets`) instead of a SELECT DISTINCT over the
    whole table: those of the workspaces chosen in the workspace filter, else of all."""

    MAX_CHOICES = 50

    def __init__(
        self,
        field: Field,
        request: HttpRequest,
        params: dict[str, list[str]],
        model: type[Model],
        model_admin: admin.ModelAdmin,
        field_path: str,
    ) -> None:
        super().__init__(field, request, params, model, model_admin, field_path)
        workspaces = workspaces_of(request)
        # WorkspaceFilter's parameter (the workspace's id).
        chosen = request.GET.getlist("workspace__id__exact")
        walked = [w for w in workspaces if str(w.pk) in chosen] or workspaces
        values = indexed_values(model, field.name, walked, self.MAX_CHOICES)
        # A selected value past the first MAX_CHOICES still shows as selected.
        self.lookup_choices = values + [v for v in self.lookup_val or [] if v not in values]


def indexed_values(
    model: type[Model], field: str, workspaces: Sequence[Workspace], limit: int
) -> list[str]:
    """The first `limit` values of `field` in the workspaces' rows, in one query: the
    union of each workspace's index walk (`facets.values_query`)."""
    walks = [facets.values_query(w, [(model, field)]) for w in workspaces]
    if not walks:
        return []
    union = " UNION ".join(f"SELECT value FROM ({sql}) AS w{i}" for i, (sql, _) in enumerate(walks))
    with connection.cursor() as cursor:
        cursor.execute(f"{union} ORDER BY 1 LIMIT %s", [p for _, ps in walks for p in ps] + [limit])
        return [value for (value,) in cursor.fetchall()]


@admin.register(Workspace)
class WorkspaceAdmin(BoundedSearch, admin.ModelAdmin):
    list_display = ["name", DISPLAY_NAME, "resource_group", "subscription_id", "created"]
    search_fields = ["name", "display_name"]
    search_help_text = "Workspace name or display name."
    readonly_fields = ["next_incident_number", "created"]
    inlines = [MembershipInline]

    def save_model(self, request: HttpRequest, obj: Workspace, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            install_default_rules(obj)


@admin.register(Membership)
class MembershipAdmin(BoundedSearch, admin.ModelAdmin):
    list_display = ["user", "workspace", "role", "created"]
    list_filter = ["role", "workspace"]
    list_select_related = ["user", "workspace"]
    search_fields = ["user__username", "workspace__name"]
    search_help_text = "User name or workspace name."
    autocomplete_fields = ["workspace", "user"]


# --- incidents ---------------------------------------------------------------


class RelationInline(ReadOnlyInline):
    model = Relation
    fields = ["alert", "bookmark", "name", "reason", "creator", "created"]
    readonly_fields = fields
    verbose_name_plural = "relations (change them with the alert actions)"

    @admin.display(description="Created by")
    def creator(self, relation: Relation) -> str:
        return relation_creator(relation)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # Each row shows the relation's str(), which names its incident and resource.
        related = ["incident", "alert", "bookmark", "created_by"]
        return super().get_queryset(request).select_related(*related)


class ActivityInline(ReadOnlyInline):
    model = ActivityEntry
    fields = ["created", "actor_name", "via", "kind", "message", "comment"]
    readonly_fields = fields


class IncidentAdminForm(forms.ModelForm):
    def clean_provider_name(self) -> str:
        provider_name = self.cleaned_data["provider_name"]
        # Rule 5 depends on the incident's provider: changing it would let its alerts move.
        changed = self.instance.pk and provider_name != self.instance.provider_name
        if changed and self.instance.relations.filter(alert__isnull=False).exists():
            raise ValidationError(
                f"The provider of an incident that has alerts cannot change: it decides "
                f"whether its alerts may be added or removed here. Keep "
                f"“{self.instance.provider_name}”."
            )
        return provider_name


@admin.register(Incident)
class IncidentAdmin(IncidentReferenceSearch, BigTable, admin.ModelAdmin):
    form = IncidentAdminForm
    list_display = [
        "reference",
        TITLE,
        "workspace",
        "severity",
        "status",
        "classification",
        "owner",
        "provider_name",
        "alert_count",
        "last_activity_time",
    ]
    list_display_links = ["reference", TITLE]
    list_filter = [
        ("workspace", WorkspaceFilter),
        "severity",
        "status",
        "classification",
        ("provider_name", IndexedValuesFilter),
    ]
    list_select_related = ["workspace", "owner"]
    search_fields = ["number__exact", "uuid__exact", "title"]
    search_help_text = "Incident ID (#123 or 123), uuid, or words of the title."
    fieldsets = [
        (None, {"fields": ["workspace", "number", "uuid", "title", "description", "severity"]}),
        ("Labels and provider", {"fields": ["labels", "provider_name", "provider_incident_id"]}),
        (
            "Triage",
            {
                "description": "Changed in the web app or with this list's actions, so the "
                "activity log records each change.",
                "fields": [
                    "status",
                    "classification",
                    "classification_reason",
                    "classification_comment",
                    "owner",
                    "closed",
                ],
            },
        ),
        (
            "Alerts and times",
            {
                "fields": [
                    "alert_count",
                    "first_activity_time",
                    "last_activity_time",
                    "created",
                    "modified",
                ]
            },
        ),
    ]
    readonly_fields = [
        "workspace",
        "number",
        "uuid",
        "status",
        "classification",
        "classification_reason",
        "classification_comment",
        "owner",
        "closed",
        "alert_count",
        "first_activity_time",
        "last_activity_time",
        "created",
        "modified",
    ]
    inlines = [RelationInline, ActivityInline]
    actions = ["close_as_undetermined", "reopen"]

    @admin.display(description="ID", ordering="number")
    def reference(self, incident: Incident) -> str:
        return f"#{incident.number}"

    # Numbers, the "created" entry and first alerts come from ingestion and the web app.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    # The activity log protects an incident, and deleting it could strand its alerts.
    def has_delete_permission(self, request: HttpRequest, obj: Incident | None = None) -> bool:
        return False

    @admin.action(description="Close selected incidents as Undetermined", permissions=["change"])
    def close_as_undetermined(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._triage_each(
            request,
            queryset,
            lambda incident, actor: actions.close_incident(
                incident, classification=Classification.UNDETERMINED, actor=actor
            ),
            done="Closed {} as Undetermined.",
        )

    @admin.action(description="Reopen selected incidents", permissions=["change"])
    def reopen(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._triage_each(
            request,
            queryset,
            lambda incident, actor: actions.reopen_incident(incident, actor=actor),
            done="Reopened {}.",
        )

    def _triage_each(
        self,
        request: HttpRequest,
        queryset: QuerySet,
        change: Callable[[Incident, Actor], Incident],
        *,
        done: str,
    ) -> None:
        """Apply one `incidents.actions` change to every incident, or to none of them."""
        actor = admin_actor(request)
        try:
            with transaction.atomic():
                # Locks are taken in id order, like the membership module's.
                incidents = [change(i, actor) for i in queryset.order_by("pk")]
                log_changes(request, incidents, done.format("the incident"))
        except TriageError as error:
            messages.error(request, f"{error.user_message} Nothing was changed.")
            return
        if incidents:
            messages.success(request, done.format(numbers(incidents)))


# --- alerts and entities -----------------------------------------------------


class AlertAdminForm(forms.ModelForm):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        strangers = [
            e for e in cleaned.get("entities") or [] if e.workspace_id != self.instance.workspace_id
        ]
        if strangers:
            self.add_error(
                "entities",
                f"{', '.join(map(str, strangers))}: not in workspace {self.instance.workspace}. "
                "An alert's entities are those of its own workspace.",
            )
        return cleaned


class AlertsToIncidentForm(forms.Form):
    """The intermediate page of the "Link…" and "Add selected alerts to incident…" actions."""

    incident = forms.CharField(label="Incident ID", max_length=24)
    comment = forms.CharField(
        label="Comment",
        required=False,
        max_length=actions.MAX_COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )
    other_incident = forms.ChoiceField(
        choices=[("keep", "Keep other incident"), ("close", "Close other incident")],
        initial="keep",
        widget=forms.RadioSelect,
        help_text=f"Closing sets it to Closed, Undetermined, with the comment "
        f"“{membership.CLOSED_BY_MOVE_COMMENT} #…”.",
    )

    def __init__(self, *args: Any, workspace: Workspace, other_label: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        # Django renders help text unescaped, and the display name is anyone's text.
        self.fields["incident"].help_text = format_html(
            "The destination's number, in workspace {}.", workspace
        )
        self.fields["other_incident"].label = other_label

    def clean_incident(self) -> Incident:
        number = self.cleaned_data["incident"].strip().removeprefix("#")
        # ASCII digits that fit a bigint: "²" passes isdigit() but not int().
        if not (number.isascii() and number.isdigit() and len(number) <= 18):
            raise ValidationError("Enter the incident's number, such as #123.")
        try:
            return Incident.objects.get(workspace=self.workspace, number=int(number))
        except Incident.DoesNotExist:
            raise ValidationError(
                f"There is no incident #{number} in workspace {self.workspace}."
            ) from None


@admin.register(Alert)
class AlertAdmin(BoundedSearch, BigTable, admin.ModelAdmin):
    form = AlertAdminForm
    list_display = [
        DISPLAY_NAME,
        "system_alert_id",
        "workspace",
        "severity",
        "status",
        "product_name",
        "provider_name",
        "time_generated",
        "incidents",
    ]
    list_filter = [
        ("workspace", WorkspaceFilter),
        "severity",
        "status",
        ("product_name", IndexedValuesFilter),
        ("provider_name", IndexedValuesFilter),
    ]
    list_select_related = ["workspace"]
    search_fields = ["system_alert_id__exact", "display_name"]
    search_help_text = "System alert id, or words of the alert's name."
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "workspace",
                    "system_alert_id",
                    "display_name",
                    "alert_type",
                    "severity",
                    "status",
                    "incidents",
                ]
            },
        ),
        (
            "Source",
            {"fields": ["product_name", "provider_name", "vendor_name", "provider_alert_id"]},
        ),
        ("Times", {"fields": ["start_time", "end_time", "time_generated", "created", "updated"]}),
        (
            "Details",
            {
                "fields": [
                    "tactics",
                    "techniques",
                    "description",
                    "remediation_steps",
                    "extended_properties",
                    "source_fields",
                    "entities",
                ]
            },
        ),
    ]
    # Times come from the provider, and incidents' activity times are derived from them.
    readonly_fields = [
        "workspace",
        "system_alert_id",
        "incidents",
        "start_time",
        "end_time",
        "time_generated",
        "created",
        "updated",
        "source_fields",
    ]
    autocomplete_fields = ["entities"]
    actions = ["link_to_incident", "add_to_incident"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        relations = Relation.objects.select_related("incident")
        return super().get_queryset(request).prefetch_related(Prefetch("relations", relations))

    @admin.display(description="Incidents")
    def incidents(self, alert: Alert) -> SafeString:
        return incident_links([r.incident for r in alert.relations.all()])

    # Ingestion puts every new alert in an incident; an admin-made alert would have none.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    # Deleting an alert would silently drop its relations and strand the activity log.
    def has_delete_permission(self, request: HttpRequest, obj: Alert | None = None) -> bool:
        return False

    @admin.action(description="Link selected alerts to incident…", permissions=["change"])
    def link_to_incident(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._alerts_to_incident(request, queryset, link=True)

    @admin.action(description="Add selected alerts to incident…", permissions=["change"])
    def add_to_incident(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._alerts_to_incident(request, queryset, link=False)

    def _alerts_to_incident(
        self, request: HttpRequest, queryset: QuerySet, *, link: bool
    ) -> HttpResponse | None:
        """Ask for the destination, then move (link) or add the alerts through membership."""
        limit = membership.max_alerts()
        # One more than fits any incident is enough to refuse "select all" on a huge list.
        alerts = list(queryset.select_related("workspace")[: limit + 1])
        if not alerts:
            messages.warning(request, "None of the selected alerts is in this list any more.")
            return None
        if len(alerts) > limit:
            messages.error(request, f"Select at most {limit} alerts: an incident holds no more.")
            return None
        workspaces = {a.workspace for a in alerts}
        if len(workspaces) > 1:
            names = ", ".join(sorted(map(str, workspaces)))
            messages.error(
                request,
                f"The selected alerts are in {len(workspaces)} workspaces ({names}). An incident "
                "holds alerts of its own workspace only: select alerts of one workspace.",
            )
            return None
        (workspace,) = workspaces
        form = AlertsToIncidentForm(
            request.POST if "post" in request.POST else None,
            workspace=workspace,
            other_label=(
                "If an incident is left without alerts"
                if link
                else "If an alert is the only alert of another incident"
            ),
        )
        if form.is_valid():
            try:
                message = self._apply(request, alerts, form.cleaned_data, link=link)
            except TriageError as error:
                messages.error(request, error.user_message)
            else:
                messages.success(request, message)
                return None
        verb = "Link" if link else "Add"
        return TemplateResponse(
            request,
            "admin/incidents/alert/alerts_to_incident.html",
            {
                **self.admin_site.each_context(request),
                "title": f"{verb} {counted(len(alerts), 'alert')} to an incident",
                "subtitle": None,
                "intro": (
                    "The alerts leave every incident they are in and join the destination."
                    if link
                    else "The alerts join the destination and stay in the incidents they are in."
                ),
                "submit_label": f"{verb} alerts",
                "opts": self.opts,
                "alerts": alerts,
                "form": form,
                "media": self.media + form.media,
                "action": "link_to_incident" if link else "add_to_incident",
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
                "cancel_url": request.get_full_path(),
            },
        )

    def _apply(
        self, request: HttpRequest, alerts: list[Alert], data: dict[str, Any], *, link: bool
    ) -> SafeString:
        """Make the change and its admin history in one transaction; the success message."""
        destination: Incident = data["incident"]
        actor = admin_actor(request)
        with transaction.atomic():
            if link:
                moved = membership.move_alerts(
                    alerts,
                    destination=destination,
                    source=None,
                    actor=actor,
                    comment=data["comment"],
                    emptied_incident=data["other_incident"],
                )
                changed, others, closed = moved.moved, list(moved.left), moved.closed
            else:
                added = membership.add_alerts(
                    destination,
                    alerts,
                    actor=actor,
                    comment=data["comment"],
                    other_incident=data["other_incident"],
                )
                changed, closed = added.added, added.closed
                others = list({i for found in added.also_in.values() for i in found})
            verb = "Linked" if link else "Added"
            log_changes(request, changed, f"{verb} to incident #{destination.number}.")
        message = format_html(
            '{} {} to incident <a href="{}">#{} {}</a>.',
            verb,
            counted(len(changed), "alert"),
            change_url(destination),
            destination.number,
            destination.title,
        )
        if others:
            where = "Moved from" if link else "Also still in"
            message += format_html(" {} {}.", where, numbers(others))
        if closed:
            message += format_html(" Closed {}.", numbers(closed))
        return message


class EntityAdminForm(forms.ModelForm):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        kind, identifier = cleaned.get("kind"), cleaned.get("identifier")
        if not (kind and identifier):
            return cleaned
        # One real-world thing is one row: store the spelling ingestion would.
        cleaned["identifier"] = normalize_identifier(kind, identifier)
        # Model validation skips the unique constraint when the workspace is read-only.
        if "workspace" not in self.fields:
            twins = Entity.objects.filter(
                workspace_id=self.instance.workspace_id,
                kind=kind,
                identifier=cleaned["identifier"],
            ).exclude(pk=self.instance.pk)
            if twins.exists():
                raise ValidationError(
                    f"This workspace already has the {EntityKind(kind).label} "
                    f"“{cleaned['identifier']}”."
                )
        return cleaned


class EntityIdentifierInline(ReadOnlyInline):
    model = EntityIdentifier
    fields = ["key", "strong"]
    readonly_fields = fields
    verbose_name_plural = "identifiers (records sharing one are this entity)"


@admin.register(Entity)
class EntityAdmin(BoundedSearch, BigTable, admin.ModelAdmin):
    form = EntityAdminForm
    list_display = [IDENTIFIER, "kind", DISPLAY_NAME, "workspace", "created"]
    list_filter = ["workspace", "kind"]
    list_select_related = ["workspace"]
    search_fields = ["identifier", "display_name"]
    search_help_text = "Identifier or display name."
    autocomplete_fields = ["workspace"]

    def get_inlines(self, request: HttpRequest, obj: Entity | None) -> list:
        # Identifiers come from ingestion; a new entity has none to show.
        return [EntityIdentifierInline] if obj else []

    def get_readonly_fields(self, request: HttpRequest, obj: Entity | None = None) -> list[str]:
        # Alerts link only to entities of their own workspace.
        return ["workspace", "created", "alerts_link"] if obj else ["created"]

    @admin.display(description="Alerts")
    def alerts_link(self, entity: Entity) -> SafeString:
        url = reverse("admin:incidents_alert_changelist") + f"?entities__id__exact={entity.pk}"
        return format_html('<a href="{}">Alerts with this entity</a>', url)


# --- bookmarks, relations, activity, API tokens --------------------------------


@admin.register(Bookmark)
class BookmarkAdmin(BoundedSearch, admin.ModelAdmin):
    list_display = ["display_name", "workspace", "created_by", "created"]
    list_filter = ["workspace"]
    list_select_related = ["workspace", "created_by"]
    search_fields = ["bookmark_id__exact", "display_name"]
    search_help_text = "Bookmark id, or words of its name."
    autocomplete_fields = ["workspace", "created_by"]

    def get_readonly_fields(self, request: HttpRequest, obj: Bookmark | None = None) -> list[str]:
        # Incidents relate only to bookmarks of their own workspace.
        return ["bookmark_id", "workspace", "created"] if obj else ["bookmark_id", "created"]


@admin.register(Relation)
class RelationAdmin(IncidentReferenceSearch, NoWrites, BigTable, admin.ModelAdmin):
    """Relations change only through `incidents.membership`: see the alert actions."""

    list_display = ["incident", "alert", "bookmark", "name", "reason", "creator", "created"]
    list_filter = ["reason", "incident__workspace"]
    list_select_related = ["incident", "alert", "bookmark", "created_by"]
    incident_number_lookup = "incident__number"
    search_fields = ["incident__number__exact", "alert__system_alert_id__exact", "name__exact"]
    search_help_text = "Incident ID (#123 or 123), system alert id, or relation name."

    @admin.display(description="Created by")
    def creator(self, relation: Relation) -> str:
        return relation_creator(relation)


@admin.register(ActivityEntry)
class ActivityEntryAdmin(IncidentReferenceSearch, NoWrites, BigTable, admin.ModelAdmin):
    """The append-only log: viewable, never added, changed or deleted, not even here."""

    list_display = ["created", "incident", "kind", "via", ACTOR_NAME, MESSAGE]
    list_filter = ["kind", "via", "incident__workspace"]
    list_select_related = ["incident"]
    incident_number_lookup = "incident__number"
    search_fields = ["incident__number__exact", "message"]
    search_help_text = "Incident ID (#123 or 123), or words of the message."


@admin.register(ApiToken)
class ApiTokenAdmin(BoundedSearch, admin.ModelAdmin):
    list_display = [
        "prefix",
        "name",
        "user",
        "workspace",
        "scope",
        "created",
        "last_used",
        "revoked",
    ]
    list_filter = ["revoked", "scope", "workspace"]
    list_select_related = ["user", "workspace"]
    search_fields = ["prefix", "name", "user__username"]
    search_help_text = "Token prefix, name, or user name."
    fields = ["prefix", "name", "user", "workspace", "scope", "created", "last_used", "revoked"]
    readonly_fields = ["prefix", "user", "workspace", "scope", "created", "last_used", "revoked"]
    actions = ["revoke"]

    # A token's secret is shown once, by `manage.py create_api_token`.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke selected API tokens", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        with transaction.atomic():
            # Only the token rows: the changelist's outer join to a workspace cannot be locked.
            tokens = list(queryset.filter(revoked__isnull=True).select_for_update(of=["self"]))
            now = timezone.now()
            # One save a token, so the security log (audit) records each revocation.
            for token in tokens:
                token.revoked = now
                token.save(update_fields=["revoked"])
            log_changes(request, tokens, "Revoked.")
        messages.success(request, f"Revoked {counted(len(tokens), 'API token')}.")
