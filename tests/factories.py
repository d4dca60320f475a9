"""factory-boy factories for every model. Relations are made through the membership module."""

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from incidents import membership
from incidents.activity import Actor
from incidents.models import (
    ActivityEntry,
    Alert,
    Bookmark,
    Entity,
    EntityKind,
    Incident,
    Membership,
    MembershipChange,
    Relation,
    Role,
    Severity,
    Via,
    Workspace,
)
from incidents.numbering import allocate_incident_numbers

INGESTION = Actor.system("Ingestion", via=Via.INGESTION)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"workspace-{n}")
    display_name = factory.LazyAttribute(lambda w: w.name.replace("-", " ").title())


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    workspace = factory.SubFactory(WorkspaceFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.RESPONDER


class IncidentFactory(factory.django.DjangoModelFactory):
    """An incident with no alerts; see `incident_with_alerts` for one holding alerts."""

    class Meta:
        model = Incident

    workspace = factory.SubFactory(WorkspaceFactory)
    title = factory.Sequence(lambda n: f"Suspicious activity {n}")
    severity = Severity.MEDIUM
    provider_name = "Microsoft Sentinel"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from django.db import transaction

        with transaction.atomic():
            if "number" not in kwargs:
                (kwargs["number"],) = allocate_incident_numbers(kwargs["workspace"])
            return super()._create(model_class, *args, **kwargs)


class AlertFactory(factory.django.DjangoModelFactory):
    """An alert on its own. Every alert belongs to an incident: use `alert_in`."""

    class Meta:
        model = Alert

    workspace = factory.SubFactory(WorkspaceFactory)
    display_name = factory.Sequence(lambda n: f"Suspicious PowerShell command line {n}")
    alert_type = "SuspiciousPowerShell"
    severity = Severity.MEDIUM
    product_name = "Microsoft Sentinel"
    provider_name = "ASI Scheduled Alerts"
    vendor_name = "Microsoft"
    time_generated = factory.Sequence(
        lambda n: timezone.now() - dt.timedelta(hours=1) + dt.timedelta(seconds=n)
    )
    tactics = factory.LazyFunction(lambda: ["Execution"])
    techniques = factory.LazyFunction(lambda: ["T1059"])


class EntityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Entity

    workspace = factory.SubFactory(WorkspaceFactory)
    kind = EntityKind.HOST
    identifier = factory.Sequence(lambda n: f"host-{n}.contoso.com")
    display_name = factory.LazyAttribute(lambda e: e.identifier)


class BookmarkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Bookmark

    workspace = factory.SubFactory(WorkspaceFactory)
    display_name = factory.Sequence(lambda n: f"Hunting result {n}")
    query = "SecurityEvent | where EventID == 4625"


def alert_in(incident: Incident, **fields) -> Alert:
    """A new alert of the incident's workspace, related to it as ingestion would."""
    alert = AlertFactory(workspace=incident.workspace, **fields)
    membership.add_alerts(incident, [alert], actor=INGESTION, reason="ingestion")
    return alert


def incident_with_alerts(count: int = 1, *, workspace=None, **fields) -> Incident:
    """An incident holding `count` new alerts of its workspace."""
    incident = IncidentFactory(**({"workspace": workspace} if workspace else {}), **fields)
    if count:
        alerts = AlertFactory.create_batch(count, workspace=incident.workspace)
        membership.add_alerts(incident, alerts, actor=INGESTION, reason="ingestion")
        incident.refresh_from_db()
    return incident


def give_entities(alerts, **counts: int) -> None:
    """Link each alert to new entities of its own: `host=3, ip=1` gives each three hosts and
    an IP, named `<kind>-<alert id>-<n>`. Two queries however many."""
    made = {
        (alert.pk, kind, n): Entity(
            workspace_id=alert.workspace_id, kind=kind, identifier=f"{kind}-{alert.pk}-{n}"
        )
        for alert in alerts
        for kind, count in counts.items()
        for n in range(count)
    }
    Entity.objects.bulk_create(made.values())
    link = Alert.entities.through
    link.objects.bulk_create(
        link(alert_id=alert_id, entity_id=entity.pk) for (alert_id, _, _), entity in made.items()
    )


# --- helpers for the membership tests -------------------------------------

DEFENDER = "Microsoft Defender XDR"


def defender_alert_in(incident: Incident, **fields) -> Alert:
    """A "Microsoft Defender XDR" alert, related to `incident` as ingestion would."""
    return alert_in(incident, provider_name=DEFENDER, product_name=DEFENDER, **fields)


def alert_ids_of(incident: Incident) -> set[int]:
    """The ids of the alerts related to `incident`, read from the database."""
    return set(
        Relation.objects.filter(incident=incident, alert__isnull=False).values_list(
            "alert_id", flat=True
        )
    )


def incident_ids_of(alert: Alert) -> set[int]:
    """The ids of the incidents `alert` belongs to, read from the database."""
    return set(Relation.objects.filter(alert=alert).values_list("incident_id", flat=True))


def activity_of(incident: Incident, *kinds: str) -> list[ActivityEntry]:
    """The incident's activity entries, oldest first, optionally of some kinds only."""
    entries = ActivityEntry.objects.filter(incident=incident).order_by("pk")
    return list(entries.filter(kind__in=kinds) if kinds else entries)


def snapshot() -> dict[str, list]:
    """Every row a membership change or triage action may touch, to show one changed nothing."""
    return {
        "workspaces": list(Workspace.objects.order_by("pk").values("pk", "next_incident_number")),
        "incidents": list(Incident.objects.order_by("pk").values()),
        "relations": list(Relation.objects.order_by("pk").values()),
        "activity": list(ActivityEntry.objects.order_by("pk").values()),
    }


def everything() -> dict[str, list]:
    """`snapshot` plus the changes recorded for Undo."""
    return {
        **snapshot(),
        "changes": list(MembershipChange.objects.order_by("pk").values()),
        "changed_incidents": list(
            MembershipChange.incidents.through.objects.order_by("pk").values()
        ),
    }
