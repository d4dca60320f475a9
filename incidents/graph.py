"""The investigation graph's data: an incident's alerts and entities as nodes and edges,
and an entity's explorations ("Related alerts", "Related incidents").

Plain dicts for JSON, read through the selectors the entity timeline uses, in a fixed
number of queries however many nodes there are. Changes go through the views that
already make them (`add_alert`, `remove_alert`); nothing here writes.
"""

import uuid
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from incidents import entity_index, membership, selectors
from incidents.models import Alert, Entity, EntityKind, Incident
from incidents.templatetags.kinds import kind_icon
from incidents.text import reveal_bidi

# "Related alerts": the newest few around the incident's own alerts, and said so.
RELATED_ALERTS_LIMIT = 50
RELATED_ALERTS_DAYS = 30
RELATED_INCIDENTS_LIMIT = 20

# Placeholders the page's script fills in: one reverse per address, not one per node.
_ALERT = uuid.UUID(int=0)
_ENTITY = 2**31 - 1
_NUMBER = 2**31 - 2


def urls(incident: Incident) -> dict[str, str]:
    """The addresses the graph links to or calls, with `{alert}`, `{entity}` or `{number}`
    where the node's own value goes."""
    here = {"number": incident.number}

    def pattern(name: str, **kwargs) -> str:
        url = reverse(f"incidents:{name}", kwargs=kwargs)
        url = url.replace(str(_ALERT), "{alert}").replace(str(_ENTITY), "{entity}")
        return url.replace(str(_NUMBER), "{number}")

    return {
        "alert": pattern("alert", system_alert_id=_ALERT),
        "incident": pattern("incident", number=_NUMBER),
        "addAlert": pattern("add_alert", **here, system_alert_id=_ALERT),
        "removeAlert": pattern("remove_alert", **here, system_alert_id=_ALERT),
        "timeline": pattern("incident_entity", **here, entity_id=_ENTITY),
        "relatedAlerts": pattern("graph_related_alerts", **here, entity_id=_ENTITY),
        "relatedIncidents": pattern("graph_related_incidents", **here, entity_id=_ENTITY),
        "graph": pattern("incident_graph_json", **here),
    }


def graph(incident: Incident, *, can_act: bool) -> dict:
    """The incident's alerts, their entities and the edges between them (5 queries)."""
    # The graph draws every entity itself.
    alerts = selectors.incident_alerts(incident, main_entities=False)
    links = selectors.alert_entity_ids(selectors.of_incident(incident))
    entities = selectors.incident_entities(incident)
    return {
        "incident": {
            "number": incident.number,
            "title": reveal_bidi(incident.title),
            "status": incident.status,
            "alertCount": incident.alert_count,
            "maxAlerts": membership.max_alerts(),
        },
        "canAct": can_act,
        "urls": urls(incident),
        "alerts": [_alert(a, links[a.pk], incident, in_incident=True) for a in alerts],
        "entities": [_entity(e) for e in entities],
    }


def related_alerts(incident: Incident, entity: Entity) -> dict:
    """The newest alerts with `entity` that are not in the incident, within
    `RELATED_ALERTS_DAYS` of the incident's alerts, at most `RELATED_ALERTS_LIMIT` (3 queries)."""
    since, until = _around(incident)
    alerts, more = selectors.related_alerts(
        entity, incident, since=since, until=until, limit=RELATED_ALERTS_LIMIT
    )
    links = selectors.alert_entity_ids([a.pk for a in alerts])
    if not alerts:
        summary = (
            f"No related alerts: this entity has no alerts outside incident #{incident.number} "
            f"within {RELATED_ALERTS_DAYS} days of its alerts."
        )
    else:
        shown = f"the {RELATED_ALERTS_LIMIT} newest" if more else "all"
        summary = (
            f"{len(alerts)} related alert{'' if len(alerts) == 1 else 's'}: {shown} of this "
            f"entity's alerts outside incident #{incident.number} within {RELATED_ALERTS_DAYS} "
            "days of its alerts."
        )
    return {
        "entity": entity.pk,
        "alerts": [_alert(a, links[a.pk], incident, in_incident=False) for a in alerts],
        "more": more,
        "limit": RELATED_ALERTS_LIMIT,
        "days": RELATED_ALERTS_DAYS,
        "summary": summary,
    }


def related_incidents(incident: Incident, entity: Entity) -> dict:
    """The other incidents with an alert involving `entity`, open ones first (1 query)."""
    incidents, more = selectors.related_incidents(entity, incident, limit=RELATED_INCIDENTS_LIMIT)
    count = f"the first {RELATED_INCIDENTS_LIMIT}" if more else str(len(incidents) or "none")
    return {
        "entity": entity.pk,
        "incidents": [
            {
                "number": i.number,
                "title": reveal_bidi(i.title),
                "severity": i.severity,
                "status": i.status,
                "alertCount": i.alert_count,
            }
            for i in incidents
        ],
        "more": more,
        "summary": f"Other incidents with this entity ({count}), open ones first.",
    }


def _around(incident: Incident):
    """The period "Related alerts" looks in: 30 days either side of the incident's alerts."""
    first = incident.first_activity_time or incident.created
    last = incident.last_activity_time or timezone.now()
    margin = timedelta(days=RELATED_ALERTS_DAYS)
    return first - margin, max(first, last) + margin


def _alert(alert: Alert, entity_ids: list[int], incident: Incident, *, in_incident: bool) -> dict:
    why = getattr(alert, "why", None)
    return {
        "id": str(alert.system_alert_id),
        "name": reveal_bidi(alert.display_name),
        "severity": alert.severity,
        "time": alert.time_generated.isoformat(),
        "product": reveal_bidi(alert.product_name),
        "provider": reveal_bidi(alert.provider_name),
        "tactics": alert.tactics if isinstance(alert.tactics, list) else [],
        "entities": entity_ids,
        "inIncident": in_incident,
        # Every incident the alert is in, this one included.
        "incidents": [
            {"number": link.number, "title": reveal_bidi(link.title), "status": link.status}
            for link in alert.incident_links
        ],
        "why": str(why) if why else "",
        "removeRefusal": selectors.provider_refusal(alert, incident) if in_incident else "",
    }


KIND_LABELS = dict(EntityKind.choices)


def _entity(entity: selectors.EntityRow) -> dict:
    return {
        "id": entity.pk,
        "kind": entity.kind,
        "kindLabel": KIND_LABELS.get(entity.kind, entity.kind),
        "icon": kind_icon(entity.kind),
        "label": reveal_bidi(entity.display_name or entity.identifier),
        "identifier": reveal_bidi(entity.identifier),
        "properties": [
            (reveal_bidi(name), reveal_bidi(text))
            for name, text in selectors.entity_properties(entity)
        ],
        "alerts": entity.incident_alerts,
        "otherOpenIncidents": entity.other_open_incidents,
        # "100+" past `entity_index.COUNTED`.
        "otherOpenIncidentsLabel": entity_index.open_count_label(entity.other_open_incidents),
    }
