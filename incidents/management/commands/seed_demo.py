"""`manage.py seed_demo`: a demo workspace with its users and realistic incidents.

Entities come from a bounded pool created once, so popular hosts and accounts recur
across many alerts and incidents. Incidents are made in chunks of `CHUNK_INCIDENTS`, one
transaction each, so memory stays flat at any size: the chunk's alerts and their entity
links are inserted here (with COPY on PostgreSQL), then `membership.import_incidents`
saves the incidents and relates the alerts to them.

Each chunk draws from its own generator seeded by (seed, chunk number), so the data does
not depend on who builds it: on PostgreSQL, worker processes build chunks side by side
and import them in order, which keeps incident numbers the same from run to run.
"""

import datetime as dt
import multiprocessing
import os
import random
import secrets
import sys
import time
import uuid
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_slug
from django.db import connection, connections, reset_queries, transaction
from django.utils import timezone

from incidents import alert_days, bulk, mitre
from incidents import demo_catalog as catalog
from incidents.activity import Actor
from incidents.demo_catalog import Detection, Product
from incidents.ingest.entities import parse_entities
from incidents.membership import import_incidents
from incidents.models import (
    SEVERITY_ORDER,
    Alert,
    AlertStatus,
    Classification,
    Entity,
    EntityIdentifier,
    EntityKind,
    Incident,
    IncidentStatus,
    Membership,
    Role,
    Severity,
    Via,
    Workspace,
)
from incidents.progress import Progress
from incidents.rules.defaults import install_default_rules

INGESTION = Actor.system("Ingestion", via=Via.INGESTION)

# (username, role, superuser): the demo logins.
DEMO_USERS = (
    ("admin", Role.CONTRIBUTOR, True),
    ("analyst", Role.RESPONDER, False),
    ("reader", Role.READER, False),
    ("lead", Role.CONTRIBUTOR, False),
)
# Who owns assigned incidents, and how often.
OWNERS = {"analyst": 0.6, "lead": 0.3, "admin": 0.1}

CHUNK_INCIDENTS = 1000
BATCH_SIZE = 2000
# Shares of the incidents that hold a single alert, and that group one rule's alerts.
SINGLE_ALERT_SHARE = 0.35
SAME_RULE_SHARE = 0.4
# Shape of the incident sizes' long tail (a Pareto shape: smaller is longer).
SIZE_TAIL = 2.0
# Share of a chunk's incidents that also hold an alert of another incident.
SHARED_ALERT_SHARE = 0.01
HISTORY = dt.timedelta(days=30)
# Defender XDR incident ids: each chunk numbers from its own block, so ids stay unique.
XDR_FIRST_ID = 20_000
# What each chunk reports, in the order the workers add it up.
COUNTS = ("incidents", "alerts", "relations", "links")


class Command(BaseCommand):
    help = (
        "Create a demo workspace with the users admin, analyst, reader and lead, and realistic "
        "incidents, alerts and entities. Does nothing if the workspace already has data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", default="demo", help="Workspace name (a slug).")
        parser.add_argument("--incidents", type=int, default=300, help="Number of incidents.")
        parser.add_argument("--alerts", type=int, default=1200, help="Number of alerts.")
        parser.add_argument(
            "--seed", type=int, help="The same seed gives the same data (default: the name)."
        )
        parser.add_argument(
            "--password",
            help="Password of new demo users (default: $TRIAGE_DEMO_PASSWORD, else generated).",
        )
        parser.add_argument(
            "--workers",
            type=int,
            help="Processes building chunks side by side (default: 2 on PostgreSQL, else 1).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name, incidents, alerts = options["workspace"], options["incidents"], options["alerts"]
        cap = settings.TRIAGE_MAX_ALERTS_PER_INCIDENT
        check_options(name, incidents, alerts, cap)
        workers = check_workers(options["workers"])
        existing = Workspace.objects.filter(name=name).first()
        if existing is not None and has_data(existing):
            self.stdout.write(
                f"Workspace “{name}” already has {existing.incidents.count():,} incidents, "
                f"{existing.alerts.count():,} alerts and {existing.entities.count():,} "
                "entities: nothing was added. Pass --workspace NAME to seed another workspace."
            )
            return

        started = time.monotonic()
        users = DemoUsers.ensure(options["password"])
        seed = options["seed"] if options["seed"] is not None else name
        with transaction.atomic():
            workspace = existing or create_workspace(name, seed)
            # Alerts ingested into the demo later are grouped as in any new workspace.
            install_default_rules(workspace)
            users.join(workspace)
            builder = DemoBuilder(workspace, seed, users.owner_ids())
            entities = builder.create_entities(pool_size(alerts))
        sizes = incident_sizes(random.Random(f"{seed}/sizes"), incidents, alerts, cap)
        chunks = [
            (index, sizes[start : start + CHUNK_INCIDENTS])
            for index, start in enumerate(range(0, incidents, CHUNK_INCIDENTS))
        ]
        progress = Progress(self.stderr, alerts, "alerts")
        # Worker processes cannot see an open transaction's rows (e.g. inside a test).
        if workers > 1 and len(chunks) > 1 and not connection.in_atomic_block:
            counts = run_in_workers(builder, chunks, workers, progress)
        else:
            counts = Counter()
            for index, chunk in chunks:
                counts.update(builder.seed_chunk(index, chunk))
                progress.update(counts["alerts"])
        progress.finish(counts["alerts"])
        # Loaded in bulk, without the per-alert counting: count the days once.
        with transaction.atomic():
            alert_days.rebuild(workspace)
        counts["entities"] = entities
        self._report(workspace, counts, users, time.monotonic() - started)

    def _report(
        self, workspace: Workspace, counts: Counter, users: "DemoUsers", seconds: float
    ) -> None:
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded workspace “{workspace.name}” in {seconds:.1f} s: "
                f"{counts['incidents']:,} incidents, {counts['alerts']:,} alerts, "
                f"{counts['relations']:,} relations, {counts['entities']:,} entities, "
                f"{counts['links']:,} alert–entity links."
            )
        )
        self.stdout.write("Log in at /accounts/login/ with:")
        for username, role, superuser in DEMO_USERS:
            role_text = f"{role.label.lower()}{' (superuser)' if superuser else ''}"
            secret = (
                users.password
                if username in users.created
                else "(existing user: password unchanged)"
            )
            self.stdout.write(f"  {username:<8} {role_text:<25} {secret}")
        if users.generated:
            self.stdout.write(
                "The password was generated: pass --password or set TRIAGE_DEMO_PASSWORD "
                "to choose it."
            )


def check_options(name: str, incidents: int, alerts: int, cap: int) -> None:
    try:
        validate_slug(name)
    except ValidationError as e:
        raise CommandError(f"--workspace: {e.messages[0]}") from e
    if incidents < 1:
        raise CommandError("--incidents must be at least 1.")
    if alerts < incidents:
        raise CommandError("--alerts must be at least --incidents: every incident holds an alert.")
    if alerts > incidents * cap:
        raise CommandError(
            f"--alerts can be at most {incidents * cap:,}: an incident holds at most {cap} alerts."
        )


def check_workers(workers: int | None) -> int:
    on_postgres = connection.vendor == "postgresql"
    if workers is None:
        return 2 if on_postgres else 1
    if workers < 1:
        raise CommandError("--workers must be at least 1.")
    if workers > 1 and not on_postgres:
        # SQLite has one writer: a worker waiting for its turn would block the others.
        raise CommandError("--workers above 1 needs PostgreSQL.")
    return workers


def has_data(workspace: Workspace) -> bool:
    return workspace.incidents.exists() or workspace.alerts.exists() or workspace.entities.exists()


def create_workspace(name: str, seed: int | str) -> Workspace:
    ids = random.Random(f"{seed}/{name}/workspace")
    return Workspace.objects.create(
        name=name,
        display_name=f"{name.replace('-', ' ').title()} SOC",
        subscription_id=uuid.UUID(int=ids.getrandbits(128), version=4),
        resource_group="rg-security",
    )


def pool_size(alerts: int) -> int:
    """How many entities the workspace draws from: about 20,000 for a million alerts."""
    return min(17_500, max(400, alerts // 60))


def incident_sizes(rng: random.Random, incidents: int, alerts: int, cap: int) -> list[int]:
    """How many alerts each incident holds: a third hold one, the rest a long tail up to `cap`.

    The sizes add up to `alerts` exactly; `check_options` made sure they can.
    """
    # Every other incident needs two alerts, and the others must have room for the rest.
    singles = max(round(incidents * SINGLE_ALERT_SHARE), 2 * incidents - alerts)
    if cap > 1:
        singles = min(singles, (cap * incidents - alerts) // (cap - 1))
    singles = min(max(singles, 0), incidents)
    multi, room = incidents - singles, cap - 2
    # Mostly small, with a long tail; never zero, so every incident can still grow.
    weights = [rng.paretovariate(SIZE_TAIL) - 0.99 for _ in range(multi)]
    grown = [0] * multi
    left = alerts - singles - 2 * multi
    while left:
        for i in rng.choices(range(multi), weights, k=left):
            grown[i] += 1
        # What went past the cap is drawn again among the incidents that have room.
        left = sum(g - room for g in grown if g > room)
        grown = [min(g, room) for g in grown]
        weights = [0 if g == room else w for g, w in zip(grown, weights, strict=True)]
    sizes = [1] * singles + [2 + g for g in grown]
    rng.shuffle(sizes)
    return sizes


@dataclass
class DemoUsers:
    users: dict[str, AbstractBaseUser]
    # Usernames created by this run, which got `password`.
    created: set[str]
    password: str
    generated: bool

    @classmethod
    def ensure(cls, password: str | None) -> "DemoUsers":
        """The demo users; the missing ones are created, existing ones are left as they are."""
        User = get_user_model()
        names = [username for username, _, _ in DEMO_USERS]
        users = {u.get_username(): u for u in User.objects.filter(username__in=names)}
        missing = [spec for spec in DEMO_USERS if spec[0] not in users]
        chosen = password or os.environ.get("TRIAGE_DEMO_PASSWORD", "")
        generated = bool(missing) and not chosen
        if generated:
            chosen = secrets.token_urlsafe(12)
        if missing:
            # PBKDF2 is slow by design: hash the shared demo password once.
            hashed = make_password(chosen)
            for username, _, superuser in missing:
                users[username] = User.objects.create(
                    username=username,
                    email=f"{username}@example.com",
                    is_staff=superuser,
                    is_superuser=superuser,
                    password=hashed,
                )
        created = {username for username, _, _ in missing}
        return cls(users, created, chosen if missing else "", generated)

    def join(self, workspace: Workspace) -> None:
        for username, role, _ in DEMO_USERS:
            Membership.objects.get_or_create(
                workspace=workspace, user=self.users[username], defaults={"role": role}
            )

    def owner_ids(self) -> dict[int, float]:
        return {self.users[username].pk: weight for username, weight in OWNERS.items()}


@dataclass
class PoolKind:
    """One kind of the workspace's entities, most popular first."""

    # The kind's name in detection descriptions ("{host}").
    key: str
    ids: list[int]
    names: list[str]
    # Cumulative popularity weights, for drawing a rank with `bisect`.
    cumulative: list[float]


@dataclass
class IncidentPlan:
    incident: Incident
    alerts: list[Alert]
    # The entity ids of each of the incident's own alerts, in the same order.
    entity_ids: list[list[int]] = field(default_factory=list)


class DemoBuilder:
    """Draws a workspace's entities, incidents and alerts from the catalog."""

    def __init__(self, workspace: Workspace, seed: int | str, owners: dict[int, float]):
        self.workspace, self.seed = workspace, seed
        self.now = timezone.now()
        self.owners, self.owner_weights = list(owners), list(owners.values())
        self.providers = list(catalog.INCIDENT_PROVIDERS)
        self.provider_weights = list(catalog.INCIDENT_PROVIDERS.values())
        self.cap = settings.TRIAGE_MAX_ALERTS_PER_INCIDENT
        self.pool: dict[EntityKind, PoolKind] = {}
        # Replaced for each chunk by `seed_chunk`.
        self.rng = self.ids = random.Random(seed)
        self.next_xdr_id = XDR_FIRST_ID

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.ids.getrandbits(128), version=4)

    def create_entities(self, size: int) -> int:
        """Save the workspace's entity pool; return how many entities it holds."""
        rng = random.Random(f"{self.seed}/entities")
        for kind, members in catalog.entity_pool(rng, size).items():
            rows = Entity.objects.bulk_create(
                [
                    Entity(
                        workspace=self.workspace,
                        kind=kind,
                        identifier=e.identifier,
                        display_name=e.display_name,
                        properties=e.properties,
                    )
                    for e in members
                ],
                batch_size=BATCH_SIZE,
            )
            self.identify(rows)
            self.pool[kind] = PoolKind(
                kind.value,
                [row.pk for row in rows],
                [e.display_name for e in members],
                catalog.popularity(kind, len(members)),
            )
        return sum(len(kind.ids) for kind in self.pool.values())

    def identify(self, entities: list[Entity]) -> None:
        """Give the pool's entities their identity keys, as ingestion would, so alerts
        ingested into a demo workspace find them."""
        identifiers = []
        for entity in entities:
            for record in parse_entities([{**entity.properties, "Type": entity.kind}]):
                if record.kind == entity.kind:
                    identifiers.extend(
                        EntityIdentifier(
                            workspace=self.workspace,
                            entity=entity,
                            kind=record.kind,
                            key=key,
                            strong=record.strong,
                        )
                        for key in record.keys
                    )
        EntityIdentifier.objects.bulk_create(
            identifiers, batch_size=BATCH_SIZE, ignore_conflicts=True
        )

    def seed_chunk(self, index: int, sizes: Sequence[int], turn: "Turn | None" = None) -> Counter:
        """Save chunk `index`: its alerts and their entity links, then its incidents.

        With a `turn`, the incidents are imported only once the previous chunk's are.
        """
        self.rng = random.Random(f"{self.seed}/{index}")
        # UUIDs are unique across workspaces, so two workspaces with one seed need their own.
        self.ids = random.Random(f"{self.seed}/{self.workspace.name}/{index}")
        self.next_xdr_id = XDR_FIRST_ID + 3 * CHUNK_INCIDENTS * index
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    # Check foreign keys as rows arrive, not all at commit inside the import turn.
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                    # Demo data need not wait for the disk: a crash loses whole chunks at worst.
                    cursor.execute("SET LOCAL synchronous_commit = off")
            plans = [self._plan(size) for size in sizes]
            alerts = [alert for plan in plans for alert in plan.alerts]
            bulk.insert(alerts)
            links = [
                (alert.pk, entity_id)
                for plan in plans
                for alert, entity_ids in zip(plan.alerts, plan.entity_ids, strict=True)
                for entity_id in entity_ids
            ]
            bulk.insert_pairs(Alert.entities.through, ("alert", "entity"), links)
            self._share_alerts(plans)
            for plan in plans:
                self._set_times(plan)
            if turn is not None:
                turn.wait(index)
            import_incidents(
                self.workspace,
                [(p.incident, p.alerts) for p in plans],
                actor=INGESTION,
                batch_size=BATCH_SIZE,
            )
        if turn is not None:
            turn.done(index)
        # With DEBUG on, Django keeps every query's SQL: forget it so memory stays flat.
        reset_queries()
        return Counter(
            incidents=len(plans),
            alerts=len(alerts),
            relations=sum(len(p.alerts) for p in plans),
            links=len(links),
        )

    def _plan(self, size: int) -> IncidentPlan:
        """An unsaved incident and its `size` unsaved alerts, telling one story."""
        rng = self.rng
        provider = rng.choices(self.providers, self.provider_weights)[0]
        choices = catalog.PROVIDER_DETECTIONS[provider]
        if size == 1 or rng.random() < SAME_RULE_SHARE:
            story = [rng.choice(choices)]
        else:
            story = rng.sample(choices, min(size, len(choices), rng.randint(2, 5)))
            story.sort(key=lambda d: mitre.TACTIC_ORDER[d.tactics[0]])
        if size == 1:
            duration = dt.timedelta(minutes=rng.uniform(1, 30))
        else:
            duration = dt.timedelta(hours=rng.uniform(0.2, min(120, 2 * size)))
        end = self.now - rng.random() * (HISTORY - duration)
        status = self._status(end)
        classification, reason, comment = (
            catalog.classification_for(rng) if status == IncidentStatus.CLOSED else ("", "", "")
        )
        alert_status = self._alert_status(status, classification)

        # Most alerts of an incident name its host, user, IP…; some incidents stray more.
        stickiness = 0.85 if rng.random() < 0.7 else 0.4
        focus: dict[EntityKind, int] = {}
        host_pool, account_pool = self.pool[EntityKind.HOST], self.pool[EntityKind.ACCOUNT]
        hosts: set[int] = set()
        users: set[int] = set()
        plan = IncidentPlan(Incident(), [])
        offsets = sorted(rng.random() for _ in range(size))
        for i, offset in enumerate(offsets):
            detection = story[i * len(story) // size]
            entities = self._entities(detection, focus, stickiness)
            for pool, rank in entities:
                if pool is host_pool:
                    hosts.add(rank)
                elif pool is account_pool:
                    users.add(rank)
            generated = end - (1 - offset) * duration
            plan.alerts.append(self._alert(detection, provider, entities, generated, alert_status))
            plan.entity_ids.append([pool.ids[rank] for pool, rank in entities])

        distinct = list(dict.fromkeys(story))
        host_name = self.pool[EntityKind.HOST].names[min(hosts)] if hosts else ""
        labels = list(dict.fromkeys(label for d in distinct for label in d.labels))
        if classification == Classification.BENIGN_POSITIVE and rng.random() < 0.6:
            labels.append(rng.choice(catalog.BENIGN_LABELS))
        if rng.random() < 0.06:
            labels.append(rng.choice(catalog.EXTRA_LABELS))
        plan.incident = Incident(
            uuid=self.uuid(),
            title=catalog.incident_title(
                provider,
                [story[i * len(story) // size] for i in range(size)],
                hosts=len(hosts),
                users=len(users),
                host_name=host_name,
            ),
            description=(
                plan.alerts[0].description
                if len(distinct) == 1
                else f"{size} correlated alerts: " + " → ".join(d.name for d in distinct) + "."
            ),
            severity=min((a.severity for a in plan.alerts), key=SEVERITY_ORDER.index),
            status=status,
            classification=classification,
            classification_reason=reason,
            classification_comment=comment,
            owner_id=self._owner(status),
            labels=labels,
            provider_name=provider,
            provider_incident_id=self._provider_incident_id(provider),
        )
        return plan

    def _entities(
        self, detection: Detection, focus: dict[EntityKind, int], stickiness: float
    ) -> list[tuple[PoolKind, int]]:
        """The alert's entities as (pool, rank): mostly the incident's own, else popular ones."""
        drawn: dict[EntityKind, int] = {}
        entities = []
        for kind in detection.entities:
            # An alert's mailbox is its account's: same person, same rank.
            key = EntityKind.ACCOUNT if kind == EntityKind.MAILBOX else kind
            rank = drawn.get(key)
            if rank is None:
                rank = focus.get(key)
                if rank is None or self.rng.random() > stickiness:
                    cumulative = self.pool[key].cumulative
                    rank = min(
                        bisect_right(cumulative, self.rng.random() * cumulative[-1]),
                        len(cumulative) - 1,
                    )
                    focus.setdefault(key, rank)
                drawn[key] = rank
            entities.append((self.pool[kind], rank))
        return entities

    def _alert(
        self,
        detection: Detection,
        provider: str,
        entities: list[tuple[PoolKind, int]],
        generated: dt.datetime,
        status: AlertStatus,
    ) -> Alert:
        rng = self.rng
        names = {pool.key: pool.names[rank] for pool, rank in entities}
        severity = detection.severity
        if severity != Severity.INFORMATIONAL and rng.random() < 0.1:
            severity = SEVERITY_ORDER[SEVERITY_ORDER.index(severity) + 1]
        # The detection ends a little before the alert is generated, and may span a while.
        end = generated - dt.timedelta(seconds=rng.uniform(20, 600))
        start = end - dt.timedelta(seconds=rng.uniform(0, 1800))
        product = detection.product
        return Alert(
            workspace_id=self.workspace.pk,
            system_alert_id=self.uuid(),
            display_name=detection.name,
            alert_type=detection.alert_type,
            severity=severity,
            status=status,
            product_name=product.name,
            provider_name=(
                catalog.DEFENDER_XDR
                if provider == catalog.DEFENDER_XDR
                else product.sentinel_provider
            ),
            vendor_name="Microsoft",
            provider_alert_id=self._provider_alert_id(product),
            start_time=start,
            end_time=end,
            time_generated=generated,
            tactics=list(detection.tactics),
            techniques=list(detection.techniques),
            description=catalog.describe(detection, names),
            remediation_steps=list(detection.remediation),
            extended_properties=detection.extended_properties(),
            created=generated + dt.timedelta(seconds=rng.uniform(5, 120)),
        )

    def _share_alerts(self, plans: list[IncidentPlan]) -> None:
        """Put a few alerts in a second incident, as overlapping analytics rules do.

        Defender XDR incidents are left out: XDR keeps each of its alerts in one incident.
        """
        eligible = [p for p in plans if p.incident.provider_name != catalog.DEFENDER_XDR]
        if len(eligible) < 2:
            return
        for _ in range(max(1, round(len(plans) * SHARED_ALERT_SHARE))):
            donor, receiver = self.rng.sample(eligible, 2)
            alert = self.rng.choice(donor.alerts)
            if len(receiver.alerts) < self.cap and all(a.pk != alert.pk for a in receiver.alerts):
                receiver.alerts.append(alert)

    def _set_times(self, plan: IncidentPlan) -> None:
        """Created shortly after its first alert; closed some time after its last."""
        incident = plan.incident
        first = min(a.time_generated for a in plan.alerts)
        last = max(a.time_generated for a in plan.alerts)
        incident.created = first + dt.timedelta(seconds=self.rng.uniform(10, 300))
        if incident.status == IncidentStatus.CLOSED:
            incident.closed = min(self.now, last + dt.timedelta(hours=self.rng.uniform(0.5, 72)))

    def _status(self, end: dt.datetime) -> IncidentStatus:
        """Older incidents are more likely closed."""
        age_days = (self.now - end) / dt.timedelta(days=1)
        closed = min(0.9, 0.15 + 0.04 * age_days)
        roll = self.rng.random()
        if roll < closed:
            return IncidentStatus.CLOSED
        if roll < closed + (1 - closed) * 0.45:
            return IncidentStatus.ACTIVE
        return IncidentStatus.NEW

    def _alert_status(self, status: IncidentStatus, classification: str) -> AlertStatus:
        if status == IncidentStatus.CLOSED:
            if classification == Classification.FALSE_POSITIVE:
                return AlertStatus.DISMISSED
            return AlertStatus.RESOLVED
        if status == IncidentStatus.ACTIVE and self.rng.random() < 0.6:
            return AlertStatus.IN_PROGRESS
        return AlertStatus.NEW

    def _owner(self, status: IncidentStatus) -> int | None:
        if status == IncidentStatus.NEW and self.rng.random() > 0.15:
            return None
        return self.rng.choices(self.owners, self.owner_weights)[0]

    def _provider_incident_id(self, provider: str) -> str:
        """Defender numbers its incidents; Defender for Cloud names them by GUID."""
        if provider == catalog.DEFENDER_XDR:
            self.next_xdr_id += self.rng.randint(1, 3)
            return str(self.next_xdr_id)
        if provider == catalog.DEFENDER_FOR_CLOUD:
            return str(self.uuid())
        return ""

    def _provider_alert_id(self, product: Product) -> str:
        if not product.alert_id_prefix:
            return str(self.uuid())
        number, suffix = self.ids.getrandbits(64), self.ids.getrandbits(31)
        return f"{product.alert_id_prefix}{number:020d}_{suffix}"


class Turn:
    """Whose turn it is to import, across worker processes: chunks import in order."""

    def __init__(self, context: multiprocessing.context.BaseContext):
        self.condition = context.Condition()
        self.next = context.Value("q", 0, lock=False)
        self.failed = context.Value("b", 0, lock=False)

    def wait(self, index: int) -> None:
        with self.condition:
            while self.next.value != index:
                if self.failed.value:
                    raise WorkerStopped
                self.condition.wait(1)

    def done(self, index: int) -> None:
        with self.condition:
            self.next.value = index + 1
            self.condition.notify_all()

    def fail(self) -> None:
        with self.condition:
            self.failed.value = 1
            self.condition.notify_all()


class WorkerStopped(Exception):
    """Another worker failed, so this one stops too."""


def run_in_workers(
    builder: "DemoBuilder",
    chunks: list[tuple[int, list[int]]],
    workers: int,
    progress: "Progress",
) -> Counter:
    """Seed the chunks in `workers` forked processes, chunk i in process i mod `workers`."""
    context = multiprocessing.get_context("fork")
    turn = Turn(context)
    totals = context.Array("q", len(COUNTS))
    # A forked process must not share its parent's database connection, nor print what
    # the parent had buffered.
    connections.close_all()
    sys.stdout.flush()
    sys.stderr.flush()
    processes = [
        context.Process(target=_work, args=(builder, chunks[w::workers], turn, totals))
        for w in range(workers)
    ]
    for process in processes:
        process.start()
    while any(p.is_alive() for p in processes):
        for process in processes:
            process.join(0.5)
        if any(p.exitcode for p in processes):
            # A worker killed outside Python (e.g. out of memory) cannot say so itself.
            turn.fail()
        progress.update(totals[COUNTS.index("alerts")])
    if any(p.exitcode for p in processes):
        raise CommandError(
            "A worker failed (see its error above); the chunks imported before it are kept."
        )
    return Counter(dict(zip(COUNTS, totals, strict=True)))


def _work(
    builder: "DemoBuilder", chunks: list[tuple[int, list[int]]], turn: Turn, totals: Any
) -> None:
    try:
        for index, sizes in chunks:
            counts = builder.seed_chunk(index, sizes, turn)
            with totals.get_lock():
                for i, name in enumerate(COUNTS):
                    totals[i] += counts[name]
    except WorkerStopped:
        sys.exit(1)
    except BaseException:
        # multiprocessing prints the traceback and exits with 1; the others stop at their turn.
        turn.fail()
        raise
    finally:
        connections.close_all()
