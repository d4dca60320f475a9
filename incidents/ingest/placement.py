"""Which incident a new alert joins: the one hook that ingestion (and later the rules) fill.

In order: the incident of its provider when the provider correlates its own alerts and
the row carries that provider's incident id (Defender XDR's `ExtendedProperties.IncidentId`),
as Sentinel's Defender XDR connector does; else a new incident named by the membership
module's naming rule. The correlation rules (`incidents.rules`) slot in between those two
steps. Every write goes through `incidents.membership.correlate_new_alerts`, and a bridging
alert's merges through `membership.merge_incidents`.
"""

from collections import defaultdict
from collections.abc import Sequence

from incidents.activity import Actor
from incidents.membership import Correlated, Placement, correlate_new_alerts
from incidents.models import Alert, Incident, RelationReason, Workspace
from incidents.rules import bridging, engine

DEFENDER_XDR = "Microsoft Defender XDR"


def place_new_alerts(
    workspace: Workspace, new: Sequence[tuple[Alert, str]], *, actor: Actor
) -> Correlated:
    """Give each new alert its first incident. `new` pairs each saved alert with its
    provider incident id ("" when it has none), in the order the rows came."""
    by_provider: dict[str, list[Alert]] = defaultdict(list)
    others: list[Alert] = []
    for alert, provider_incident_id in new:
        if provider_incident_id:
            by_provider[provider_incident_id].append(alert)
        else:
            others.append(alert)
    placements: list[Placement] = []
    if by_provider:
        placements.extend(_provider_placements(workspace, by_provider))
    plan = engine.plan(workspace, others) if others else None
    if plan is not None:
        placements.extend(engine.placements(plan, workspace))
    correlated = correlate_new_alerts(
        workspace, placements, actor=actor, reason=RelationReason.INGESTION
    )
    if plan is not None:
        engine.count_matches(plan)
        bridging.bridge(plan.groups)
    return correlated


def _provider_placements(
    workspace: Workspace, by_provider: dict[str, list[Alert]]
) -> list[Placement]:
    # The newest incident of each id: a full one is continued by a newer one.
    latest: dict[str, Incident] = {}
    found = Incident.objects.filter(
        workspace=workspace, provider_name=DEFENDER_XDR, provider_incident_id__in=list(by_provider)
    ).order_by("number")
    for incident in found:
        latest[incident.provider_incident_id] = incident
    placements = []
    for provider_incident_id, alerts in by_provider.items():
        placements.append(
            Placement(
                alerts,
                incident=latest.get(provider_incident_id),
                new_fields={
                    "provider_name": DEFENDER_XDR,
                    "provider_incident_id": provider_incident_id,
                },
                details={"provider_incident_id": provider_incident_id},
                because=f"It belongs to {DEFENDER_XDR} incident {provider_incident_id}.",
            )
        )
    return placements
