"""An incident at a glance, for its Overview and the queue's details panel: the tactics
and techniques of its alerts, their products, and its entities counted by kind."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from incidents import mitre
from incidents.models import Alert, EntityKind, Incident
from incidents.selectors import EntityRow, incident_entity_rows

TOP_ENTITIES = 8


@dataclass(frozen=True)
class KindCount:
    kind: str
    label: str
    count: int


@dataclass(frozen=True)
class Summary:
    tactics: list[mitre.Tactic]
    techniques: list[mitre.Technique]
    products: list[str]
    kinds: list[KindCount]
    # The entities in most of the incident's alerts.
    top_entities: list[EntityRow]

    @property
    def entity_count(self) -> int:
        return sum(k.count for k in self.kinds)


def summarize(incident: Incident, alerts: Sequence[Alert] | None = None) -> Summary:
    """What the incident's alerts say, and its entities (1 query). `alerts`: the
    incident's, when they are loaded already; without them, what the summary needs of
    them is read (1 query more)."""
    if alerts is None:
        fields = ("product_name", "tactics", "techniques")
        alerts = Alert.objects.filter(relations__incident=incident).values_list(*fields, named=True)
    entities = incident_entity_rows(incident, ("-incident_alerts", "kind", "identifier"))
    per_kind = Counter(e.kind for e in entities)
    labels = dict(EntityKind.choices)
    kinds = [
        KindCount(kind, labels.get(kind, kind), per_kind[kind])
        for kind in sorted(per_kind, key=lambda k: (-per_kind[k], labels.get(k, k)))
    ]
    products = Counter(a.product_name for a in alerts if a.product_name)
    return Summary(
        tactics=mitre.ordered_tactics(t for a in alerts for t in _list(a.tactics)),
        techniques=mitre.ordered_techniques(t for a in alerts for t in _list(a.techniques)),
        products=[name for name, _ in products.most_common()],
        kinds=kinds,
        top_entities=entities[:TOP_ENTITIES],
    )


def alerts_in_brief(incident: Incident) -> list[Alert]:
    """The incident's alerts, newest first, with only what a summary shows (1 query)."""
    fields = ["system_alert_id", "display_name", "severity", "product_name", "time_generated"]
    queryset = Alert.objects.filter(relations__incident=incident).only(
        *fields, "tactics", "techniques"
    )
    return list(queryset.order_by("-time_generated", "-id"))


def _list(value) -> list:
    # Ingested JSON: a list as Sentinel sends it, anything else is ignored.
    return value if isinstance(value, list) else []
