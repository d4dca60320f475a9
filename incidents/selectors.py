"""Reads that pages share, each in a fixed number of queries however many rows it shows."""

import datetime as dt
import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    OuterRef,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber

from incidents import entity_index
from incidents.errors import ProviderManagedRemove
from incidents.filters import parse_number, title_matches
from incidents.membership import is_provider_managed
from incidents.models import (
    ActivityEntry,
    ActivityKind,
    Alert,
    Entity,
    EntityKind,
    Incident,
    IncidentEntity,
    IncidentStatus,
    Relation,
    Workspace,
)
from incidents.pagination import Key, Page, keyset_page
from incidents.rules.explain import Explanation, explain

PAGE_SIZE = 50
ENTITY_TIMELINE_SIZE = 50
INCIDENT_TIMELINE_SIZE = 50
RECENT_COMMENTS = 3
OPEN_STATUSES = (IncidentStatus.NEW, IncidentStatus.ACTIVE)
SEARCH_LIMIT = 10
# What tells alerts apart in a list: up to MAIN_ENTITIES hosts, accounts and IPs each.
MAIN_ENTITY_KINDS = (EntityKind.HOST, EntityKind.ACCOUNT, EntityKind.IP)
MAIN_ENTITIES = 2


@dataclass(frozen=True)
class Sort:
    """A sortable column: the query-string name, the field it sorts by, the row's unique key."""

    column: str
    field: str
    nullable: bool = False

    def keys(self, descending: bool, unique: str) -> list[Key]:
        keys = [Key(self.field, descending, self.nullable)]
        return keys if self.field == unique else [*keys, Key(unique, descending)]


INCIDENT_SORTS = {
    s.column: s
    for s in [
        Sort("last_activity", "last_activity_time", nullable=True),
        Sort("number", "number"),
        Sort("title", "title"),
        Sort("severity", "severity_rank"),
        Sort("status", "status"),
        Sort("owner", "owner_name", nullable=True),
        Sort("alerts", "alert_count"),
        Sort("created", "created"),
    ]
}
# The queue's default order, and the typeahead's.
RECENT_FIRST = [k.order() for k in INCIDENT_SORTS["last_activity"].keys(True, "number")]

ALERT_SORTS = {
    s.column: s
    for s in [
        Sort("time", "time_generated"),
        Sort("name", "display_name"),
        Sort("severity", "severity_rank"),
        Sort("status", "status"),
        Sort("product", "product_name"),
    ]
}


def parse_sort(value: str, sorts: dict[str, Sort], default: str) -> tuple[str, Sort, bool]:
    """(the sort as the query string spells it, its column, descending?), or the default."""
    column = value.removeprefix("-")
    if column not in sorts:
        return parse_sort(default, sorts, default)
    return value, sorts[column], value.startswith("-")


# --- the queues ------------------------------------------------------------------


def incident_page(filtered: QuerySet, sort: str, cursor: str | None) -> Page:
    """A page of the incidents queue (2 queries at most; 3 sorted by owner)."""
    _, column, descending = parse_sort(sort, INCIDENT_SORTS, "-last_activity")
    queryset = filtered.select_related("owner")
    keys = column.keys(descending, "number")
    if column.field != "owner_name":
        # Each row's products are the incident's own (`Incident.products`): no query.
        return keyset_page(queryset, keys, cursor, PAGE_SIZE)
    # By name, as the column reads; unassigned incidents sort as the largest value.
    queryset = queryset.annotate(owner_name=F("owner__username"))
    owners = _owners(filtered)
    if owners is None:
        return keyset_page(queryset, keys, cursor, PAGE_SIZE)
    # Each owner's incidents (and the unassigned) read in number order from an index, and
    # merged: sorting every open incident by its owner's name cost about 70 ms at 1M.
    parts = [
        filtered.filter(owner=user).annotate(owner_name=Value(user.get_username()))
        for user in owners
    ]
    parts.append(filtered.filter(owner=None).annotate(owner_name=Value(None, CharField())))
    page = keyset_page(queryset, keys, cursor, PAGE_SIZE, parts=parts)
    by_pk = {user.pk: user for user in owners}
    for incident in page.rows:
        Incident.owner.field.set_cached_value(incident, by_pk.get(incident.owner_id))
    return page


# More owners than this sort in one query (a merge of that many reads would cost more).
OWNER_PARTS = 40


def _owners(filtered: QuerySet) -> list | None:
    """The users who own incidents of the queue's workspace (one query), or None when the
    owner sort is better done by one query: on SQLite, or with more than OWNER_PARTS."""
    if connection.vendor != "postgresql":
        return None
    workspaces = filtered.values("workspace_id")
    owning = Incident.objects.filter(owner=OuterRef("pk"), workspace_id__in=workspaces[:1])
    users = get_user_model().objects.filter(Exists(owning)).order_by("pk")[: OWNER_PARTS + 1]
    users = list(users)
    return users if len(users) <= OWNER_PARTS else None


def alert_page(filtered: QuerySet, sort: str, cursor: str | None) -> Page:
    """A page of the alerts queue, each row with `incident_links` and `main_entities`
    (4 queries at most)."""
    _, column, descending = parse_sort(sort, ALERT_SORTS, "-time")
    page = keyset_page(filtered, column.keys(descending, "id"), cursor, PAGE_SIZE)
    attach_incidents(page.rows)
    attach_main_entities(page.rows)
    return page


@dataclass(frozen=True)
class IncidentLink:
    number: int
    title: str
    status: str
    # Why the alert is in that incident (only when asked for: `reasons=True`).
    why: Explanation | None = None
    provider_name: str = ""


def attach_incidents(
    alerts: Sequence[Alert], *, reasons: bool = False, ids: QuerySet | None = None
) -> None:
    """Set each alert's `incident_links`: the incidents it belongs to, in one query; with
    `reasons`, each link says why the alert is there.

    Also `remove_refusal`: why the alert cannot leave every incident it is in (the alerts
    queue's and the alert page's "Link alerts to another incident"); "" when it can.
    `ids`: a query of the alerts' ids, where one selects them (`of_incident`).
    """
    found: dict[int, list[IncidentLink]] = defaultdict(list)
    fields = ["alert_id", "incident__number", "incident__title", "incident__status"]
    fields += ["incident__provider_name"]
    if reasons:
        fields += ["reason", "details", "created_by__username", "created_by_name"]
    rows = (
        Relation.objects.filter(alert_id__in=_ids(alerts, ids))
        .values_list(*fields)
        .order_by("alert_id", "incident__number")
    )
    alert_ids = {a.pk: str(a.system_alert_id) for a in alerts}
    for alert_id, number, title, status, provider, *relation in rows:
        why = None
        if reasons:
            reason, details, username, system_name = relation
            who = username or system_name
            why = explain(reason, details, who=who, system_alert_id=alert_ids[alert_id])
        found[alert_id].append(IncidentLink(number, title, status, why, provider))
    for alert in alerts:
        alert.incident_links = links = found[alert.pk]
        # The refusal reads only the incident's number and provider, which a link has.
        alert.remove_refusal = next(filter(None, (provider_refusal(alert, i) for i in links)), "")


def _ids(alerts: Sequence[Alert], ids: QuerySet | None) -> QuerySet | list[int]:
    # A subquery, not a list: 150 parameters cost more to send than the rows they select.
    return ids if ids is not None else [a.pk for a in alerts]


def of_incident(incident: Incident) -> QuerySet:
    """The ids of the incident's alerts, as a subquery."""
    return Relation.objects.filter(incident=incident).values("alert_id")


def attach_main_entities(alerts: Sequence[Alert], ids: QuerySet | None = None) -> None:
    """Set each alert's `main_entities` (`MAIN_ENTITIES` hosts, accounts and IPs at most,
    in that order) and `more_entities` (how many of those kinds that leaves out), in one
    query: the database ranks each alert's entities of a kind and returns only the first."""
    by_kind = [F("alert_id"), F("entity__kind")]
    links = (
        Alert.entities.through.objects.filter(
            alert_id__in=_ids(alerts, ids), entity__kind__in=MAIN_ENTITY_KINDS
        )
        .annotate(
            rank=Window(RowNumber(), partition_by=by_kind, order_by=[F("entity__identifier")]),
            of_kind=Window(Count("id"), partition_by=by_kind),
        )
        .filter(rank__lte=MAIN_ENTITIES)
        # Rows, not model instances: a busy incident's alerts have hundreds of these.
        .values_list(
            "alert_id",
            "entity__kind",
            "entity__identifier",
            "entity__display_name",
            "rank",
            "of_kind",
        )
    )
    order = {kind: i for i, kind in enumerate(MAIN_ENTITY_KINDS)}
    found: dict[int, list] = defaultdict(list)
    for alert_id, *row in links:
        found[alert_id].append(row)
    for alert in alerts:
        rows = sorted(found[alert.pk], key=lambda r: (order[r[0]], r[3]))
        alert.main_entities = [MainEntity(kind, key, name) for kind, key, name, _, _ in rows]
        shown = {kind: of_kind for kind, _, _, _, of_kind in rows}
        alert.more_entities = sum(shown.values()) - len(rows)


@dataclass(frozen=True, slots=True)
class MainEntity:
    """What an alert's row shows of one of its main entities."""

    kind: str
    identifier: str
    display_name: str


# --- one incident ----------------------------------------------------------------


# What an alert's row, timeline item and graph node show of it (and its refusals read):
# not the columns only the alert page shows. 150 alerts' JSON cost more to read than the
# rest of an incident's tab, and each date column costs a conversion per row.
ROW_FIELDS = (
    "workspace_id",
    "system_alert_id",
    "display_name",
    "severity",
    "status",
    "product_name",
    "provider_name",
    "time_generated",
    "tactics",
)


@dataclass(slots=True)
class AlertRow:
    """One of an incident's alerts as its rows and graph show it (`ROW_FIELDS`), with what
    `incident_alerts` attaches. A row, not a model instance: building 150 instances cost
    half as much again as reading them."""

    pk: int
    workspace_id: int
    system_alert_id: uuid.UUID
    display_name: str
    severity: str
    status: str
    product_name: str
    provider_name: str
    time_generated: dt.datetime
    tactics: object
    incident_links: list[IncidentLink] = field(default_factory=list)
    remove_refusal: str = ""
    main_entities: list["MainEntity"] = field(default_factory=list)
    more_entities: int = 0
    why: Explanation | None = None


def incident_alerts(incident: Incident, *, main_entities: bool = True) -> list[AlertRow]:
    """The incident's alerts, newest first, each with `incident_links`, `main_entities`,
    `why`: the reason it is in this incident (3 queries), and `remove_refusal`: why it
    cannot leave this incident ("Remove alert", "Link alerts to another incident")."""
    rows = (
        Alert.objects.filter(relations__incident=incident)
        .order_by("-time_generated", "-id")
        .values_list("pk", *ROW_FIELDS)
    )
    alerts = [AlertRow(*row) for row in rows]
    _attach_membership(alerts, incident, main_entities=main_entities, ids=of_incident(incident))
    return alerts


def _attach_membership(
    alerts: Sequence[Alert],
    incident: Incident,
    *,
    main_entities: bool = True,
    ids: QuerySet | None = None,
) -> None:
    """What `incident_alerts` says of each of the incident's `alerts` (2 queries)."""
    attach_incidents(alerts, reasons=True, ids=ids)
    # The rows' hosts, accounts and IPs: one more query, which the graph does without.
    if main_entities:
        attach_main_entities(alerts, ids)
    for alert in alerts:
        alert.why = next((i.why for i in alert.incident_links if i.number == incident.number), None)
        alert.remove_refusal = provider_refusal(alert, incident)


def activity_page(incident: Incident, cursor: str | None) -> Page:
    keys = [Key("created", descending=True), Key("id", descending=True)]
    queryset = ActivityEntry.objects.filter(incident=incident).select_related("actor")
    return keyset_page(queryset, keys, cursor, PAGE_SIZE)


def incident_timeline(incident: Incident, cursor: str | None = None) -> Page:
    """A page of the incident's alerts, newest first (the Overview's Incident timeline),
    each as `incident_alerts` has it and with `other_links` (3 queries). A page, not all
    150: the Alerts tab lists them all, and a full incident's timeline cost more than the
    rest of its Overview (#14)."""
    queryset = Alert.objects.filter(relations__incident=incident).only(*ROW_FIELDS)
    keys = [Key("time_generated", descending=True), Key("id", descending=True)]
    page = keyset_page(queryset, keys, cursor, INCIDENT_TIMELINE_SIZE)
    _attach_membership(page.rows, incident)
    _attach_other_links(page.rows, incident)
    return page


def _attach_other_links(alerts: Sequence[Alert], incident: Incident) -> None:
    for alert in alerts:
        alert.other_links = [i for i in alert.incident_links if i.number != incident.number]


def recent_comments(incident: Incident) -> list[ActivityEntry]:
    """The incident's newest comments, for its Overview (1 query)."""
    entries = ActivityEntry.objects.filter(incident=incident, kind=ActivityKind.COMMENT)
    return list(entries.order_by("-created", "-id")[:RECENT_COMMENTS])


@dataclass(slots=True)
class EntityRow:
    """An entity of an incident as its lists and graph show it: `incident_alerts`, how
    many of the incident's alerts involve it, and `other_open_incidents`, in how many other
    New or Active incidents it appears. A row, not a model instance: a busy incident has
    hundreds of entities, and building their instances cost as much as reading them."""

    pk: int
    kind: str
    identifier: str
    display_name: str
    incident_alerts: int
    properties: object = None
    other_open_incidents: int = 0


@dataclass(frozen=True)
class KindGroup:
    kind: str
    label: str
    entities: list[EntityRow]


def incident_entity_rows(
    incident: Incident, order: Sequence[str], *, properties: bool = False
) -> list[EntityRow]:
    """The union of the incident's alerts' entities in `order`, each with `incident_alerts`
    (1 query, however many); their `properties` when asked for."""
    fields = ["pk", "kind", "identifier", "display_name", "incident_alerts"]
    rows = (
        Entity.objects.filter(alerts__relations__incident=incident)
        # Filtering before annotating counts only the joined rows of this incident.
        .annotate(incident_alerts=Count("alerts", distinct=True))
        .order_by(*order)
        .values_list(*fields, *(["properties"] if properties else []))
    )
    return [EntityRow(*row) for row in rows]


def incident_entities(incident: Incident, *, properties: bool = True) -> list[EntityRow]:
    """The union of the incident's alerts' entities, by kind (2 queries, however many);
    without their `properties` when not asked for (the Entities tab's list)."""
    order = ("kind", "-incident_alerts", "identifier")
    entities = incident_entity_rows(incident, order, properties=properties)
    # From the incidents' entity rows: as cheap for a host seen in 60,000 alerts as in 6.
    others = entity_index.other_open_incidents(entity_index.entities_of(incident.pk), incident.pk)
    for entity in entities:
        entity.other_open_incidents = others.get(entity.pk, 0)
    return entities


def group_by_kind(entities: Sequence[EntityRow]) -> list[KindGroup]:
    """The entities by kind, each group in the order `incident_entities` gives."""
    groups: dict[str, list[EntityRow]] = {}
    for entity in entities:
        groups.setdefault(entity.kind, []).append(entity)
    labels = dict(EntityKind.choices)
    return [KindGroup(kind, labels.get(kind, kind), rows) for kind, rows in groups.items()]


def entity_timeline(entity: Entity, incident: Incident, cursor: str | None) -> Page:
    """A page of the alerts involving `entity`, newest first (3 queries).

    Each alert has `in_incident` (whether it belongs to `incident`), `other_links`, and
    `remove_refusal`: why "Remove alert" cannot work for it here (a provider's own alert
    in the provider's incident), said beside the button instead of after a click.
    """
    in_incident = Exists(Relation.objects.filter(incident=incident, alert=OuterRef("pk")))
    queryset = alerts_involving(entity).only(*ROW_FIELDS).annotate(in_incident=in_incident)
    keys = [Key("time_generated", descending=True), Key("id", descending=True)]
    page = keyset_page(queryset, keys, cursor, ENTITY_TIMELINE_SIZE)
    attach_incidents(page.rows)
    attach_main_entities(page.rows)
    _attach_other_links(page.rows, incident)
    for alert in page.rows:
        alert.remove_refusal = provider_refusal(alert, incident) if alert.in_incident else ""
    return page


def alerts_involving(entity: Entity) -> QuerySet:
    """The entity's alerts as a semi-join, not a join: for a host in 60,000 alerts the
    planner walks the queue's index newest first and stops after a page; for a rare value
    it reads its few links and sorts them."""
    involves = Exists(
        Alert.entities.through.objects.filter(alert_id=OuterRef("pk"), entity_id=entity.pk)
    )
    return Alert.objects.filter(involves, workspace_id=entity.workspace_id)


def provider_refusal(alert: Alert, incident: Incident | IncidentLink) -> str:
    """Why "Remove alert" or "Link alerts to another incident" cannot take `alert` out of
    `incident` (a provider's own alert in the provider's incident), said beside the
    button; "" when it can."""
    managed = is_provider_managed(alert, incident)
    return ProviderManagedRemove(alert, incident).user_message if managed else ""


def entity_properties(entity: Entity | EntityRow) -> list[tuple[str, str]]:
    """The entity's raw properties as (name, text); nested values as compact JSON, and
    the entities it names (a process's host) by their identifiers."""
    # Properties come from ingestion and the admin as any JSON, not always an object.
    found = entity.properties if isinstance(entity.properties, dict) else {}
    return [(name, property_text(value)) for name, value in found.items()]


def property_text(value: object) -> str:
    if isinstance(value, str):
        return value
    references = value if isinstance(value, list) else [value]
    if references and all(
        isinstance(r, dict) and r.keys() == {"Type", "identifier"} for r in references
    ):
        return ", ".join(str(r["identifier"]) for r in references)
    return json.dumps(value, ensure_ascii=False)


def alert_entity_ids(alert_ids: Sequence[int] | QuerySet) -> dict[int, list[int]]:
    """Each alert's entity ids, in one query: the graph's alert–entity edges. `alert_ids`
    may be a subquery (`of_incident`)."""
    found: dict[int, list[int]] = defaultdict(list)
    links = Alert.entities.through.objects.filter(alert_id__in=alert_ids)
    for alert_id, entity_id in links.values_list("alert_id", "entity_id").order_by("id"):
        found[alert_id].append(entity_id)
    return found


def related_alerts(
    entity: Entity, incident: Incident, *, since, until, limit: int
) -> tuple[list[Alert], bool]:
    """The newest alerts involving `entity` outside `incident`, generated between `since`
    and `until`: at most `limit`, each with `incident_links`, and whether there are more
    (2 queries). The investigation graph's "Related alerts"."""
    queryset = (
        alerts_involving(entity)
        .only(*ROW_FIELDS)
        .filter(time_generated__range=(since, until))
        .exclude(relations__incident=incident)
        .order_by("-time_generated", "-id")
    )
    rows = list(queryset[: limit + 1])
    attach_incidents(rows[:limit])
    return rows[:limit], len(rows) > limit


def related_incidents(
    entity: Entity, incident: Incident, *, limit: int
) -> tuple[list[Incident], bool]:
    """Other incidents with an alert involving `entity`: open ones first, then the most
    recently active; at most `limit`, and whether there are more (2 queries at most)."""
    # From the incidents' entity rows (`entity_index`), not from every alert of the entity;
    # open and closed ones apart, so each reads the recency index in order when the entity
    # is in many incidents (and its few incidents when it is in few).
    involved = IncidentEntity.objects.filter(entity=entity, incident=OuterRef("pk"))
    others = (
        Incident.objects.filter(workspace_id=incident.workspace_id)
        .filter(Exists(involved))
        .exclude(pk=incident.pk)
        .only("number", "title", "severity", "status", "alert_count", "last_activity_time")
        .order_by(*RECENT_FIRST)
    )
    rows = list(others.exclude(status=IncidentStatus.CLOSED)[: limit + 1])
    if len(rows) <= limit:
        rows += others.filter(status=IncidentStatus.CLOSED)[: limit + 1 - len(rows)]
    return rows[:limit], len(rows) > limit


def alert_with_details(alert: Alert) -> Alert:
    """The alert with `entity_list`, `incident_links` with their `why` (2 queries), its extended
    properties and source fields as `(name, text, link)` rows for the page, and
    `entity_incident`: the incident whose entity panel its entities open in (None if none)."""
    alert.entity_list = list(alert.entities.order_by("kind", "identifier"))
    attach_incidents([alert], reasons=True)
    # An open incident first: the one an analyst is most likely investigating it in.
    open_first = sorted(alert.incident_links, key=lambda i: i.status == IncidentStatus.CLOSED)
    alert.entity_incident = open_first[0].number if open_first else None
    alert.extended_rows = _field_rows(alert.extended_properties)
    alert.source_rows = _field_rows(alert.source_fields)
    return alert


def _field_rows(fields: dict) -> list[tuple[str, str, str | None]]:
    rows = []
    for name, value in fields.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        # Only web links become links (AlertLink): never javascript: or data: URLs.
        link = text if isinstance(value, str) and text.startswith("https://") else None
        rows.append((name, text, link))
    return rows


# --- the flyout --------------------------------------------------------------------


def search_incidents(
    workspace: Workspace, text: str, *, exclude: int | None = None
) -> list[Incident]:
    """Incidents for "Incident name or ID": a number finds that incident, words its title.

    Words search every title, newest incidents first (on PostgreSQL through the trigram
    index of migration 0004).
    """
    queryset = Incident.objects.filter(workspace=workspace).only(
        "number", "title", "severity", "status", "alert_count", "last_activity_time"
    )
    if exclude is not None:
        queryset = queryset.exclude(number=exclude)
    number = parse_number(text)
    if number is not None:
        queryset = queryset.filter(number=number)
    elif text.strip():
        queryset = title_matches(queryset, text)
    else:
        # Open incidents only, most recent activity first: read in order from the
        # activity index (the "closed last" order below would sort every incident).
        open_ones = queryset.exclude(status=IncidentStatus.CLOSED).order_by(*RECENT_FIRST)
        return list(open_ones[:SEARCH_LIMIT])
    # Open incidents first, then closed ones, each most recent activity first.
    closed_last = Case(When(status=IncidentStatus.CLOSED, then=1), default=0)
    return list(queryset.order_by(closed_last, *RECENT_FIRST)[:SEARCH_LIMIT])
