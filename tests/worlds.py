"""Incidents with many alerts and entities, built in bulk so query-count tests stay fast."""

from incidents.models import Alert, Entity, EntityKind, Incident, Workspace
from tests.factories import incident_with_alerts

KINDS = [EntityKind.HOST, EntityKind.ACCOUNT, EntityKind.IP, EntityKind.URL, EntityKind.FILEHASH]


def incident_with_entities(
    workspace: Workspace, *, alerts: int, entities: int, outside: int = 0
) -> tuple[Incident, list[Entity]]:
    """An incident of `alerts` alerts naming `entities` entities of several kinds.

    Every entity is in at least one of its alerts and every alert names the first entity;
    that entity is also in the `outside` alerts of another open incident.
    """
    incident = incident_with_alerts(alerts, workspace=workspace, title="Big incident")
    members = list(Alert.objects.filter(relations__incident=incident).order_by("pk"))
    made = Entity.objects.bulk_create(
        Entity(
            workspace=workspace,
            kind=KINDS[n % len(KINDS)],
            identifier=f"entity-{n}",
            properties={"n": n, "tags": ["a", "b"]},
        )
        for n in range(entities)
    )
    links = {(members[n % len(members)].pk, e.pk) for n, e in enumerate(made)}
    links |= {(a.pk, made[0].pk) for a in members}
    if outside:
        other = incident_with_alerts(outside, workspace=workspace, title="Elsewhere")
        links |= {(a.pk, made[0].pk) for a in Alert.objects.filter(relations__incident=other)}
    through = Alert.entities.through
    through.objects.bulk_create(through(alert_id=a, entity_id=e) for a, e in links)
    return incident, made
