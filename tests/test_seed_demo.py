"""`manage.py seed_demo`: the demo workspace, its users, and incidents that look real."""

import datetime as dt
import io
import os
import string
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count, Max
from django.utils import timezone

from incidents import demo_catalog as catalog
from incidents import mitre
from incidents.entities import normalize_identifier
from incidents.ingest.store import ingest_batch, prepare
from incidents.ingest.stream import INGESTION
from incidents.management.commands import seed_demo
from incidents.models import (
    CLASSIFICATION_REASONS,
    Alert,
    Entity,
    Incident,
    IncidentStatus,
    Membership,
    Relation,
    Role,
    Workspace,
)
from incidents.rules.defaults import DEFAULT_RULES
from tests.ingest.builders import row

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 takes about a second per hash; these tests are about who gets which password.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(**options) -> tuple[str, str]:
    """Run seed_demo with small sizes; return what it wrote to stdout and stderr."""
    options = {"incidents": 40, "alerts": 160, "password": PASSWORD, **options}
    out, err = io.StringIO(), io.StringIO()
    call_command("seed_demo", stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def test_it_creates_the_demo_users_with_their_roles():
    seed()

    workspace = Workspace.objects.get(name="demo")
    roles = dict(
        Membership.objects.filter(workspace=workspace).values_list("user__username", "role")
    )
    assert roles == {
        "admin": Role.CONTRIBUTOR,
        "analyst": Role.RESPONDER,
        "reader": Role.READER,
        "lead": Role.CONTRIBUTOR,
    }
    users = {u.username: u for u in get_user_model().objects.all()}
    assert users["admin"].is_superuser
    assert users["admin"].is_staff
    assert not any(users[name].is_staff for name in ("analyst", "reader", "lead"))
    assert all(user.check_password(PASSWORD) for user in users.values())


def test_it_prints_the_logins_and_the_counts():
    out, _ = seed()

    assert "40 incidents, 160 alerts" in out
    for username in ("admin", "analyst", "reader", "lead"):
        assert f"{username} " in out
    assert PASSWORD in out


def test_it_creates_as_many_incidents_and_alerts_as_asked():
    seed(incidents=25, alerts=90)

    workspace = Workspace.objects.get(name="demo")
    assert workspace.incidents.count() == 25
    assert workspace.alerts.count() == 90
    assert sorted(workspace.incidents.values_list("number", flat=True)) == list(range(1, 26))


def test_every_alert_belongs_to_an_incident():
    seed()

    assert not Alert.objects.filter(relations__isnull=True).exists()


def test_some_incidents_hold_exactly_one_alert_and_others_many():
    seed()

    counts = list(Incident.objects.values_list("alert_count", flat=True))
    assert 1 in counts
    assert max(counts) >= 5


def test_alert_counts_match_the_relations():
    seed()

    for incident in Incident.objects.annotate(related=Count("relations")):
        assert incident.alert_count == incident.related


def test_no_incident_holds_more_alerts_than_the_cap(settings):
    settings.TRIAGE_MAX_ALERTS_PER_INCIDENT = 6

    seed(incidents=20, alerts=110)

    assert Incident.objects.aggregate(most=Max("alert_count"))["most"] <= 6
    assert Alert.objects.count() == 110


def test_some_alerts_belong_to_two_incidents():
    seed()

    shared = Alert.objects.annotate(n=Count("relations")).filter(n=2)
    assert shared.exists()


def test_incidents_come_from_several_providers_including_defender_xdr():
    seed()

    providers = set(Incident.objects.values_list("provider_name", flat=True))
    assert {catalog.SENTINEL, catalog.DEFENDER_XDR} <= providers
    xdr_alerts = Alert.objects.filter(relations__incident__provider_name=catalog.DEFENDER_XDR)
    assert xdr_alerts.exists()
    assert set(xdr_alerts.values_list("provider_name", flat=True)) == {catalog.DEFENDER_XDR}


def test_alerts_carry_mitre_tactics_and_techniques():
    seed()

    for alert in Alert.objects.all():
        assert set(alert.tactics) <= set(mitre.TACTICS)
        assert all(t.startswith("T") for t in alert.techniques)
        assert alert.description
        assert alert.remediation_steps


def test_entities_are_shared_across_incidents():
    seed()

    shared = Entity.objects.annotate(
        incidents=Count("alerts__relations__incident", distinct=True)
    ).filter(incidents__gte=2)
    assert shared.exists()


def test_entity_identifiers_are_normalized():
    seed()

    for kind, identifier in Entity.objects.values_list("kind", "identifier"):
        assert identifier == normalize_identifier(kind, identifier)


def test_an_alert_ingested_into_the_demo_workspace_finds_the_demo_entities():
    seed()
    workspace = Workspace.objects.get(name="demo")
    person = Entity.objects.filter(workspace=workspace, kind="account").first()
    host = Entity.objects.filter(workspace=workspace, kind="host").first()
    entities = [
        {"$id": "1", **person.properties, "Type": "account"},
        {"$id": "2", **host.properties, "Type": "host"},
    ]
    before = Entity.objects.count()

    ingest_batch(workspace, [prepare(row(entities=entities))], actor=INGESTION)

    assert Entity.objects.count() == before
    assert set(Alert.objects.latest("pk").entities.all()) == {person, host}


def test_the_demo_workspace_starts_with_the_default_correlation_rules():
    seed()
    workspace = Workspace.objects.get(name="demo")

    names = list(workspace.correlation_rules.values_list("name", flat=True))

    assert names == [rule["name"] for rule in DEFAULT_RULES]


def test_alerts_ingested_into_the_demo_about_one_user_and_host_join_one_incident():
    seed()
    workspace = Workspace.objects.get(name="demo")
    person = Entity.objects.filter(workspace=workspace, kind="account").first()
    host = Entity.objects.filter(workspace=workspace, kind="host").first()
    entities = [
        {"$id": "1", **person.properties, "Type": "account"},
        {"$id": "2", **host.properties, "Type": "host"},
    ]
    rows = [row(entities=entities, DisplayName=name) for name in ("Phish clicked", "Malware")]

    ingest_batch(workspace, [prepare(r) for r in rows], actor=INGESTION)

    first, second = Alert.objects.order_by("-pk")[:2]
    assert set(first.relations.values_list("incident", flat=True)) == set(
        second.relations.values_list("incident", flat=True)
    )


def test_only_closed_incidents_are_classified_and_with_matching_reasons():
    seed(incidents=80, alerts=200)

    statuses = set(Incident.objects.values_list("status", flat=True))
    assert statuses == {IncidentStatus.NEW, IncidentStatus.ACTIVE, IncidentStatus.CLOSED}
    for incident in Incident.objects.all():
        if incident.status != IncidentStatus.CLOSED:
            assert incident.classification == ""
            continue
        assert incident.classification
        reasons = CLASSIFICATION_REASONS[incident.classification]
        assert incident.classification_reason in (reasons or [""])
        assert incident.closed is not None


def test_alerts_fall_within_the_last_month_and_their_incident_window():
    seed()

    month_ago = timezone.now() - dt.timedelta(days=31)
    for relation in Relation.objects.select_related("incident", "alert"):
        alert, incident = relation.alert, relation.incident
        assert month_ago <= alert.start_time <= alert.end_time <= alert.time_generated
        assert incident.first_activity_time <= alert.start_time
        assert alert.end_time <= incident.last_activity_time


def test_a_second_workspace_reuses_the_users_and_leaves_their_password():
    seed()

    out, _ = seed(workspace="second", password="another password")

    assert get_user_model().objects.count() == 4
    second = Workspace.objects.get(name="second")
    assert second.memberships.count() == 4
    assert second.incidents.count() == 40
    assert get_user_model().objects.get(username="analyst").check_password(PASSWORD)
    assert "password unchanged" in out
    assert "another password" not in out


def test_a_rerun_on_a_seeded_workspace_adds_nothing():
    seed()

    out, _ = seed()

    assert "already has 40 incidents" in out
    assert Incident.objects.count() == 40
    assert Alert.objects.count() == 160


def test_the_same_seed_gives_the_same_incidents():
    seed(workspace="first", seed=7)
    seed(workspace="again", seed=7)

    def titles(name: str) -> list[str]:
        return list(
            Incident.objects.filter(workspace__name=name)
            .order_by("number")
            .values_list("title", flat=True)
        )

    assert titles("first") == titles("again")
    assert len(set(titles("first"))) > 5


def test_the_password_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("TRIAGE_DEMO_PASSWORD", "from the environment")

    seed(password=None)

    assert get_user_model().objects.get(username="reader").check_password("from the environment")


def test_a_generated_password_is_printed(monkeypatch):
    monkeypatch.delenv("TRIAGE_DEMO_PASSWORD", raising=False)

    out, _ = seed(password=None)

    line = next(line for line in out.splitlines() if line.strip().startswith("lead "))
    password = line.split()[-1]
    assert get_user_model().objects.get(username="lead").check_password(password)
    assert "generated" in out


def test_it_draws_a_progress_bar_on_stderr():
    _, err = seed()

    assert "100% 160/160 alerts" in err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"incidents": 10, "alerts": 9}, "at least --incidents"),
        ({"incidents": 2, "alerts": 301}, "at most 300"),
        ({"incidents": 0, "alerts": 0}, "at least 1"),
        ({"workspace": "not a slug"}, "--workspace"),
        ({"workers": 0}, "--workers must be at least 1"),
    ],
)
def test_it_refuses_impossible_options(options, message):
    with pytest.raises(CommandError, match=message):
        seed(**options)

    assert not Workspace.objects.exists()


@pytest.mark.sqlite
def test_it_refuses_worker_processes_on_sqlite():
    with pytest.raises(CommandError, match="needs PostgreSQL"):
        seed(workers=2)

    assert not Workspace.objects.exists()


def test_every_detection_names_only_entities_it_carries():
    fields = string.Formatter()
    for detection in catalog.DETECTIONS:
        named = {name for _, name, _, _ in fields.parse(detection.description) if name}
        assert named <= {kind.value for kind in detection.entities}, detection.name
        assert set(detection.tactics) <= set(mitre.TACTICS), detection.name


def test_the_benchmark_reports_time_rows_and_memory():
    out = io.StringIO()

    call_command("bench_seed", incidents=5, alerts=12, stdout=out, stderr=io.StringIO())

    report = out.getvalue()
    assert "wall time" in report
    assert "rows/s" in report
    assert "peak RSS" in report


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_worker_processes_build_the_same_workspace_as_one_process(monkeypatch):
    # Workers fork: do it from a fresh process, as the command line does, not from this
    # one, whose live-server and browser threads a fork would copy mid-flight.
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    script = (
        "import django; django.setup()\n"
        "from django.core.management import call_command\n"
        "from incidents.management.commands import seed_demo\n"
        "seed_demo.CHUNK_INCIDENTS = 10\n"
        "call_command('seed_demo', workspace='parallel', seed=3, incidents=45, alerts=150,"
        f" workers=2, password={PASSWORD!r})\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "triage.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    monkeypatch.setattr(seed_demo, "CHUNK_INCIDENTS", 10)

    seed(workspace="serial", seed=3, incidents=45, alerts=150, workers=1)

    def incidents(name: str) -> list[tuple]:
        return list(
            Incident.objects.filter(workspace__name=name)
            .order_by("number")
            .values_list("number", "title", "alert_count", "status")
        )

    assert len(incidents("parallel")) == 45
    assert incidents("parallel") == incidents("serial")
    assert not Alert.objects.filter(relations__isnull=True).exists()
