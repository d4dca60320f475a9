"""Similar incidents (Sentinel's "Similar incidents" on the Overview): other incidents of
the workspace active within 14 days of this one that share entities with it, have the
same title or were made by the same correlation rule; each says what it shares.

Values marked too common to correlate on (`CorrelationExclusion`) do not make incidents
similar either: a domain controller in every incident says nothing. Nor do values found
in more than `COMMON_INCIDENTS` incidents, for the same reason and so the query reads a
bounded number of rows (the incidents' entities, `entity_index`) whatever the data size.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, Exists, F, OuterRef, Window
from django.db.models.functions import RowNumber

from incidents.models import CorrelationExclusion, Entity, Incident, IncidentEntity

WINDOW = timedelta(days=14)
LIMIT = 20
COMMON_INCIDENTS = 250
NAMED = 3
# Incidents first checked against the window, most shared entities first.
CHUNK = 100


@dataclass
class Similar:
    incident: Incident
    shared_count: int = 0
    # Up to `NAMED` of the shared entities, most telling first (by kind, then name).
    shared: list[Entity] = field(default_factory=list)
    same_title: bool = False
    same_rule: bool = False


def similar_incidents(incident: Incident) -> list[Similar]:
    """Up to `LIMIT` incidents like `incident`, most shared entities first (7 queries; a
    few more when the incidents sharing most are out of the window)."""
    start = (incident.first_activity_time or incident.created) - WINDOW
    end = (incident.last_activity_time or incident.created) + WINDOW
    candidates = (
        Incident.objects.filter(
            workspace_id=incident.workspace_id,
            last_activity_time__gte=start,
            first_activity_time__lte=end,
            merged_into__isnull=True,
        )
        .exclude(pk=incident.pk)
        .order_by()
    )
    excluded = CorrelationExclusion.objects.filter(workspace_id=incident.workspace_id)
    # The incidents' entities (`entity_index`), not their alerts' links: an entity in
    # 60,000 alerts is one row per incident here. Nor do values in more than
    # COMMON_INCIDENTS incidents count: they say little, and would cost a row for each of
    # their incidents. Whether there is a row past that many reads that many at most.
    past_common = IncidentEntity.objects.filter(entity_id=OuterRef("entity_id"))[
        COMMON_INCIDENTS : COMMON_INCIDENTS + 1
    ]
    mine = sorted(
        IncidentEntity.objects.filter(incident=incident)
        .exclude(entity_id__in=excluded.values("entity_id"))
        .exclude(Exists(past_common))
        .values_list("entity_id", flat=True)
    )
    found: dict[int, Similar] = {}
    for pk, n in _most_shared(candidates, incident, mine):
        found[pk] = Similar(incident=None, shared_count=n)
    for pk in candidates.filter(title=incident.title).values_list("pk", flat=True)[:LIMIT]:
        found.setdefault(pk, Similar(incident=None)).same_title = True
    if incident.correlation_rule_id:
        by_rule = candidates.filter(correlation_rule_id=incident.correlation_rule_id)
        for pk in by_rule.values_list("pk", flat=True)[:LIMIT]:
            found.setdefault(pk, Similar(incident=None)).same_rule = True
    if not found:
        return []
    incidents = Incident.objects.filter(pk__in=found).only(
        "number", "title", "severity", "status", "alert_count", "last_activity_time"
    )
    for other in incidents:
        found[other.pk].incident = other
    ranked = sorted(
        found.values(),
        key=lambda s: (
            -s.shared_count,
            not s.same_title,
            not s.same_rule,
            -s.incident.last_activity_time.timestamp() if s.incident.last_activity_time else 0,
        ),
    )[:LIMIT]
    _name_shared([s for s in ranked if s.shared_count], mine)
    return ranked


def _most_shared(candidates, incident: Incident, mine: list[int]) -> list[tuple[int, int]]:
    """(incident id, entities shared) of the `LIMIT` candidates sharing most of `mine`.

    The shares are counted over every incident first (at most COMMON_INCIDENTS rows per
    entity), then the candidates are picked from the top, a chunk at a time: most
    incidents are in the window, so joining the window's incidents to the shares would
    read most of the incidents table for a page of twenty.
    """
    shares = (
        IncidentEntity.objects.filter(entity_id__in=mine)
        .exclude(incident=incident)
        .values_list("incident_id")
        .annotate(n=Count("entity_id"))
        .order_by("-n", "-incident_id")
    )
    picked: list[tuple[int, int]] = []

    def pick(ranked: list[tuple[int, int]]) -> None:
        in_window = set(
            candidates.filter(pk__in=[pk for pk, _ in ranked]).values_list("pk", flat=True)
        )
        picked.extend((pk, n) for pk, n in ranked if pk in in_window)

    # Usually LIMIT of the first CHUNK are in the window; the rest are read only when not,
    # and checked in chunks twice as big each time: a few queries in all.
    first = list(shares[:CHUNK])
    pick(first)
    if len(picked) < LIMIT and len(first) == CHUNK:
        rest = list(shares[CHUNK:])
        start, size = 0, CHUNK * 2
        while start < len(rest) and len(picked) < LIMIT:
            pick(rest[start : start + size])
            start, size = start + size, size * 2
    return picked[:LIMIT]


def _name_shared(similar: list[Similar], mine) -> None:
    """Each incident's shared entities, by kind and name (1 query)."""
    by_pk = {s.incident.pk: s for s in similar}
    if not by_pk:
        return
    first = Window(
        RowNumber(),
        partition_by=F("incident_id"),
        order_by=[F("entity__kind"), F("entity__identifier")],
    )
    rows = (
        IncidentEntity.objects.filter(entity_id__in=mine, incident_id__in=by_pk)
        .annotate(rank=first)
        .filter(rank__lte=NAMED)
        .select_related("entity")
        .only("incident_id", "entity__kind", "entity__identifier", "entity__display_name")
        .order_by("incident_id", "rank")
    )
    for row in rows:
        s = by_pk[row.incident_id]
        if len(s.shared) < NAMED:
            s.shared.append(row.entity)
