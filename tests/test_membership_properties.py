"""Property: random sequences of membership changes keep every rule of DESIGN.md.

A hypothesis state machine builds a small world (two workspaces, a Defender incident,
a cap of 4), then adds, removes, moves, creates, relates and merges at random, and undoes
a random recorded change (or lets one age past the undo window). After every step it
checks the rules against the database; a refused step must have changed nothing, and an
accepted one must have logged on every incident whose alerts changed.
Each example runs in a savepoint that is rolled back, so examples do not see each other.
"""

import datetime as dt
from collections import Counter
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from incidents import membership
from incidents.activity import Actor
from incidents.errors import MembershipError
from incidents.models import (
    ActivityEntry,
    ActivityKind,
    Alert,
    Incident,
    IncidentEntity,
    IncidentStatus,
    MembershipChange,
    Relation,
    RelationReason,
)
from tests.factories import (
    DEFENDER,
    AlertFactory,
    EntityFactory,
    UserFactory,
    WorkspaceFactory,
    snapshot,
)

CAP = 4

picks = st.integers(min_value=0, max_value=99)
alert_picks = st.lists(picks, min_size=1, max_size=3)
keep_or_close = st.sampled_from(["keep", "close"])
# Most merges are of Sentinel incidents of one workspace; some bring in one that cannot be.
odd_merges = st.sampled_from([None, None, None, "itself", "defender", "elsewhere"])


@dataclass
class World:
    """What the rules are about, read from the database in three queries."""

    # Incident id → (workspace id, provider, alert_count).
    incidents: dict[int, tuple[int, str, int]]
    # Alert id → (workspace id, provider).
    alerts: dict[int, tuple[int, str]]
    # (incident id, alert id) for every alert relation.
    relations: list[tuple[int, int]]
    # Merged incident id → (the incident it was merged into, its status).
    merged: dict[int, tuple[int, str]]
    # (incident id, entity id, open?) as `entity_index` keeps them, and what they should be.
    entity_rows: set[tuple[int, int, bool]]
    expected_entity_rows: set[tuple[int, int, bool]]
    # Incident id → (its products, its tactics), as stored and as its alerts have them.
    summaries: dict[int, tuple[list, list]]
    alert_summaries: dict[int, tuple[list, list]]

    @classmethod
    def read(cls) -> "World":
        return cls(
            incidents={
                pk: (ws, provider, count)
                for pk, ws, provider, count in Incident.objects.values_list(
                    "pk", "workspace_id", "provider_name", "alert_count"
                )
            },
            alerts={
                pk: (ws, provider)
                for pk, ws, provider in Alert.objects.values_list(
                    "pk", "workspace_id", "provider_name"
                )
            },
            relations=list(
                Relation.objects.filter(alert__isnull=False).values_list("incident_id", "alert_id")
            ),
            merged={
                pk: (into, status)
                for pk, into, status in Incident.objects.filter(
                    merged_into__isnull=False
                ).values_list("pk", "merged_into_id", "status")
            },
            summaries={
                pk: (products, tactics)
                for pk, products, tactics in Incident.objects.values_list(
                    "pk", "products", "tactics"
                )
            },
            alert_summaries=alert_summaries(),
            entity_rows=set(IncidentEntity.objects.values_list("incident_id", "entity_id", "open")),
            expected_entity_rows=set(
                Relation.objects.filter(alert__entities__isnull=False).values_list(
                    "incident_id",
                    "alert__entities",
                    Q(incident__status__in=(IncidentStatus.NEW, IncidentStatus.ACTIVE)),
                )
            ),
        )

    def alerts_of(self, incident_id: int) -> set[int]:
        return {a for i, a in self.relations if i == incident_id}

    def defender_links(self) -> set[tuple[int, int]]:
        return {
            (i, a)
            for i, a in self.relations
            if self.incidents[i][1] == DEFENDER and self.alerts[a][1] == DEFENDER
        }


def alert_summaries() -> dict[int, tuple[list, list]]:
    products: dict[int, set] = {pk: set() for pk in Incident.objects.values_list("pk", flat=True)}
    tactics: dict[int, set] = {pk: set() for pk in products}
    for incident_id, product, alert_tactics in Relation.objects.filter(
        alert__isnull=False
    ).values_list("incident_id", "alert__product_name", "alert__tactics"):
        products[incident_id] |= {product} if product else set()
        tactics[incident_id] |= set(alert_tactics)
    return {pk: (sorted(products[pk]), sorted(tactics[pk])) for pk in products}


class MembershipRules(RuleBasedStateMachine):
    # What all examples did, so the test can show that it exercised both outcomes.
    outcomes: Counter[str] = Counter()

    def __init__(self):
        super().__init__()
        self.savepoint = transaction.atomic()
        self.savepoint.__enter__()
        self.actor = Actor.for_user(UserFactory(username="analyst"))
        self.workspaces = [WorkspaceFactory(name="soc"), WorkspaceFactory(name="branch")]
        soc, branch = self.workspaces
        # Products and tactics that differ from alert to alert, as the incidents list them.
        plain = [
            AlertFactory(workspace=soc, product_name=product, tactics=tactics)
            for product, tactics in [
                ("Microsoft Sentinel", ["Execution"]),
                ("Microsoft Defender for Endpoint", ["Execution", "Persistence"]),
                ("", []),
                ("Microsoft Defender for Identity", ["CredentialAccess"]),
                ("Microsoft Sentinel", ["LateralMovement"]),
            ]
        ]
        defender = AlertFactory.create_batch(3, workspace=soc, provider_name=DEFENDER)
        # A host in most alerts, an account in some: incidents share entities.
        host, account = EntityFactory(workspace=soc), EntityFactory(workspace=soc, kind="account")
        for i, alert in enumerate([*plain, *defender]):
            alert.entities.add(*([host, account] if i % 3 == 0 else [host] if i % 3 else []))
        ingestion = Actor.system("Ingestion")
        membership.import_incidents(
            soc,
            [
                # A Defender alert outside any Defender incident may go anywhere but into one.
                (Incident(title="Brute force"), [*plain[:2], defender[0]]),
                (Incident(title="Password spray"), plain[2:4]),
                (Incident(title="Impossible travel"), plain[4:]),
                (Incident(title="Defender", provider_name=DEFENDER), defender[1:]),
            ],
            actor=ingestion,
        )
        membership.import_incidents(
            branch, [(Incident(title="Branch"), [AlertFactory(workspace=branch)])], actor=ingestion
        )
        self.defender_links = World.read().defender_links()
        self.world = World.read()

    def teardown(self):
        transaction.set_rollback(True)
        self.savepoint.__exit__(None, None, None)

    # --- picking from the world as it is now ---

    def incident(self, pick: int) -> Incident:
        """An incident of the main workspace; one pick in ten may be of any workspace."""
        incidents = Incident.objects.order_by("pk")
        if pick % 10:
            incidents = incidents.filter(workspace=self.workspaces[0])
        incidents = list(incidents)
        return incidents[pick % len(incidents)]

    def mergeable(self, pick: int, *, besides: Incident | None = None) -> Incident:
        """A Sentinel incident of the main workspace, other than `besides` when there is one."""
        incidents = Incident.objects.filter(workspace=self.workspaces[0]).exclude(
            provider_name=DEFENDER
        )
        if besides is not None:
            incidents = incidents.exclude(pk=besides.pk)
        incidents = list(incidents.order_by("pk"))
        return incidents[pick % len(incidents)] if incidents else besides

    def alerts(
        self, picks: list[int], *, of: Incident | None = None, outside: Incident | None = None
    ) -> list[Alert]:
        """Alerts of one incident, or outside one, or any (when there are none such)."""
        everything = Alert.objects.order_by("pk")
        if of is not None:
            alerts = list(everything.filter(relations__incident=of))
        elif outside is not None:
            alerts = list(everything.exclude(relations__incident=outside))
        else:
            alerts = []
        alerts = alerts or list(everything)
        return [alerts[p % len(alerts)] for p in picks]

    def attempt(self, name: str, change) -> bool:
        """Run a change; a refusal must leave the database exactly as it was. True if done."""
        before = snapshot()
        logged_before = Counter(ActivityEntry.objects.values_list("incident_id", flat=True))
        try:
            change()
        except MembershipError as refused:
            self.outcomes[type(refused).__name__] += 1
            assert snapshot() == before, f"{name} was refused but changed something"
            return False
        self.outcomes[name] += 1
        previous, self.world = self.world, World.read()
        logged = Counter(ActivityEntry.objects.values_list("incident_id", flat=True))
        for incident_id in self.world.incidents:
            if self.world.alerts_of(incident_id) != previous.alerts_of(incident_id):
                assert logged[incident_id] > logged_before[incident_id], (
                    f"{name} changed the alerts of incident {incident_id} without logging it"
                )
        return True

    # --- the operations ---

    @rule(incident=picks, alerts=alert_picks, other=keep_or_close)
    def add(self, incident, alerts, other):
        target = self.incident(incident)
        chosen = self.alerts(alerts, outside=target)
        self.attempt(
            "add",
            lambda: membership.add_alerts(target, chosen, actor=self.actor, other_incident=other),
        )

    @rule(incident=picks, alert=picks)
    def remove(self, incident, alert):
        target = self.incident(incident)
        (chosen,) = self.alerts([alert], of=target)
        self.attempt("remove", lambda: membership.remove_alert(target, chosen, actor=self.actor))

    @rule(
        alerts=alert_picks,
        destination=st.none() | picks,
        source=st.none() | picks,
        emptied=keep_or_close,
    )
    def move(self, alerts, destination, source, emptied):
        out_of = None if source is None else self.incident(source)
        chosen = self.alerts(alerts, of=out_of)
        to = None if destination is None else self.incident(destination)
        self.attempt(
            "move",
            lambda: membership.move_alerts(
                chosen, destination=to, source=out_of, actor=self.actor, emptied_incident=emptied
            ),
        )

    @rule(alerts=alert_picks, elsewhere=picks, defender=st.booleans())
    def create(self, alerts, elsewhere, defender):
        chosen = self.alerts(alerts)
        # Mostly in the alerts' own workspace; one pick in ten in the other one.
        workspace = chosen[0].workspace_id != self.workspaces[0].pk
        if elsewhere % 10 == 0:
            workspace = not workspace
        fields = {"provider_name": DEFENDER} if defender else {}
        self.attempt(
            "create",
            lambda: membership.create_incident(
                self.workspaces[workspace],
                chosen,
                actor=self.actor,
                reason=RelationReason.MANUAL,
                **fields,
            ),
        )

    @rule(incident=picks, alert=picks, name=st.sampled_from(["r1", "r2"]))
    def put_relation(self, incident, alert, name):
        target, (chosen,) = self.incident(incident), self.alerts([alert])
        self.attempt(
            "put_relation",
            lambda: membership.put_relation(target, name, chosen, actor=self.actor),
        )

    @rule(incident=picks, relation=picks)
    def delete_relation(self, incident, relation):
        target = self.incident(incident)
        names = list(target.relations.order_by("pk").values_list("name", flat=True))
        # One pick in ten names no relation at all.
        name = names[relation % len(names)] if names and relation % 10 else "no-such-relation"
        self.attempt(
            "delete_relation",
            lambda: membership.delete_relation(target, name, actor=self.actor),
        )

    @rule(sources=st.lists(picks, min_size=1, max_size=2), into=picks, odd=odd_merges)
    def merge(self, sources, into, odd):
        target = self.mergeable(into)
        chosen = [self.mergeable(pick, besides=target) for pick in sources]
        if odd == "itself":
            chosen.append(target)
        elif odd == "defender":
            defender = Incident.objects.filter(provider_name=DEFENDER).order_by("pk").first()
            if into % 2:
                target = defender
            else:
                chosen.append(defender)
        elif odd == "elsewhere":
            chosen.append(Incident.objects.exclude(workspace=self.workspaces[0]).first())
        self.attempt(
            "merge",
            lambda: membership.merge_incidents(
                chosen, into=target, actor=self.actor, reason="Same intrusion."
            ),
        )

    @precondition(lambda self: MembershipChange.objects.exists())
    @rule(change=picks, late=st.integers(min_value=0, max_value=4))
    def undo(self, change, late):
        changes = list(MembershipChange.objects.order_by("-pk"))
        # Mostly the latest change, the likeliest to be undoable; else any of them.
        chosen = changes[0] if change % 10 < 6 else changes[change % len(changes)]
        if late == 0:
            # One undo in five comes after the undo window.
            chosen.created = timezone.now() - dt.timedelta(minutes=16)
            chosen.save(update_fields=["created"])
        if self.attempt("undo", lambda: membership.undo_change(chosen, actor=self.actor)):
            # Every alert of the change is back in exactly the incidents it was in before it.
            data = chosen.data
            for alert_id, after in data["after"]:
                before = set(after) - {i for i, a in data["added"] if a == alert_id}
                before |= {r["incident"] for r in data["removed"] if r["alert"] == alert_id}
                assert {i for i, a in self.world.relations if a == alert_id} == before

    # --- the rules, after every step ---

    @invariant()
    def no_incident_holds_more_than_the_cap(self):
        assert all(count <= CAP for _, _, count in self.world.incidents.values())

    @invariant()
    def alert_counts_match_the_relations(self):
        for incident_id, (_, _, count) in self.world.incidents.items():
            assert count == len(self.world.alerts_of(incident_id))

    @invariant()
    def each_incident_lists_its_alerts_entities_flagged_open_or_not(self):
        assert self.world.entity_rows == self.world.expected_entity_rows

    @invariant()
    def each_incident_lists_its_alerts_products_and_tactics(self):
        assert self.world.summaries == self.world.alert_summaries

    @invariant()
    def alerts_only_join_incidents_of_their_workspace(self):
        for incident_id, alert_id in self.world.relations:
            assert self.world.incidents[incident_id][0] == self.world.alerts[alert_id][0]

    @invariant()
    def an_alert_is_related_to_an_incident_at_most_once(self):
        assert len(self.world.relations) == len(set(self.world.relations))

    @invariant()
    def every_alert_belongs_to_an_incident(self):
        assert {a for _, a in self.world.relations} == set(self.world.alerts)

    @invariant()
    def defender_alerts_never_join_or_leave_defender_incidents_here(self):
        assert self.world.defender_links() == self.defender_links

    @invariant()
    def a_merged_incident_is_closed_and_points_into_its_workspace(self):
        for merged, (into, status) in self.world.merged.items():
            assert status == IncidentStatus.CLOSED
            assert into != merged
            assert self.world.incidents[into][0] == self.world.incidents[merged][0]

    @invariant()
    def merges_never_form_a_cycle(self):
        for start in self.world.merged:
            seen, current = {start}, self.world.merged[start][0]
            while current in self.world.merged:
                assert current not in seen, "incidents merged into each other"
                seen.add(current)
                current = self.world.merged[current][0]

    @invariant()
    def a_change_is_undone_at_most_once(self):
        undone = Counter(
            (incident, details["undoes"])
            for incident, details in ActivityEntry.objects.filter(
                kind=ActivityKind.UNDONE
            ).values_list("incident_id", "details")
        )
        assert all(count == 1 for count in undone.values()), undone


@pytest.fixture
def small_cap(settings):
    settings.TRIAGE_MAX_ALERTS_PER_INCIDENT = CAP


@pytest.mark.django_db
@pytest.mark.usefixtures("small_cap")
def test_random_membership_changes_keep_every_rule():
    MembershipRules.outcomes.clear()

    run_state_machine_as_test(
        MembershipRules,
        settings=hypothesis_settings(
            max_examples=60,
            stateful_step_count=12,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )

    # Both outcomes were exercised: every operation went through, and every rule refused.
    done = MembershipRules.outcomes
    operations = [
        "add",
        "remove",
        "move",
        "create",
        "put_relation",
        "delete_relation",
        "merge",
        "undo",
    ]
    assert all(done[operation] for operation in operations), done
    refusals = [
        "IncidentFull",
        "DifferentWorkspace",
        "AlertAlreadyInIncident",
        "LastIncident",
        "ProviderManagedAdd",
        "ProviderManagedRemove",
        "MergeIntoItself",
        "MergeAcrossWorkspaces",
        "MergeTooLarge",
        "MergeProviderManaged",
        "AlreadyMerged",
        "UndoRefused",
    ]
    assert all(done[refusal] for refusal in refusals), done
