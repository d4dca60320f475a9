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

from django.db.models import Count

from incidents.models import CorrelationExclusion, Entity, Incident, IncidentEntity

WINDOW = timedelta(days=14)
LIMIT = 20
COMMON_INCIDENTS = 250
NAMED = 3


@dataclass
class Similar:
    incident: Incident
    shared_count: int = 0
    # Up to `NAMED` of the shared entities, most telling first (by kind, then name).
    shared: list[Entity] = field(default_factory=list)
    same_title: bool = False
    same_rule: bool = False


def similar_incidents(incident: Incident) -> list[Similar]:
    """Up to `LIMIT` incidents like `incident`, most shared entities first (7 queries)."""
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
    # 60,000 alerts is one row per incident here.
    mine = list(
        IncidentEntity.objects.filter(incident=incident)
        .exclude(entity_id__in=excluded.values("entity_id"))
        .values_list("entity_id", flat=True)
    )
    # Nor do values in more than COMMON_INCIDENTS incidents: they say little, and would
    # cost a row for each of their incidents.
    common = (
        IncidentEntity.objects.filter(entity_id__in=mine)
        .values("entity_id")
        .annotate(n=Count("incident_id"))
        .filter(n__gt=COMMON_INCIDENTS)
        .values_list("entity_id", flat=True)
    )
    mine = sorted(set(mine) - set(common))
    found: dict[int, Similar] = {}
    shared = (
        IncidentEntity.objects.filter(incident__in=candidates, entity_id__in=mine)
        .values_list("incident_id")
        .annotate(n=Count("entity_id"))
        .order_by("-n", "-incident_id")[:LIMIT]
    )
    for pk, n in shared:
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


def _name_shared(similar: list[Similar], mine) -> None:
    """Each incident's shared entities, by kind and name (1 query)."""
    by_pk = {s.incident.pk: s for s in similar}
    if not by_pk:
        return
    rows = (
        IncidentEntity.objects.filter(entity_id__in=mine, incident_id__in=by_pk)
        .select_related("entity")
        .order_by("entity__kind", "entity__identifier")
    )
    for row in rows:
        s = by_pk[row.incident_id]
        if len(s.shared) < NAMED:
            s.shared.append(row.entity)
