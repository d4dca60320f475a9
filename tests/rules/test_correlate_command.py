"""`manage.py correlate`: the rules over alerts already in, dry or applied."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from incidents import actions
from incidents.models import ActivityEntry, Incident, IncidentStatus, Relation
from tests.ingest.builders import account, host
from tests.rules.test_engine import incident_of, ingest, rule

pytestmark = pytest.mark.django_db


def recent(minutes: int, **columns) -> dict:
    from tests.ingest.builders import row

    when = (timezone.now() - dt.timedelta(hours=2) + dt.timedelta(minutes=minutes)).isoformat()
    return row(TimeGenerated=when, StartTime=when, EndTime=when, **columns)


def snapshot() -> tuple:
    return (
        sorted(Relation.objects.values_list("incident_id", "alert_id", "name")),
        sorted(Incident.objects.values_list("pk", "status", "alert_count", "group_key")),
        ActivityEntry.objects.count(),
    )


@pytest.fixture
def lone_alerts(workspace):
    """Three alerts on one host and one elsewhere, ingested before any rule existed."""
    rows = [recent(i, entities=[host("mb-winclient"), account(f"u{i}")]) for i in range(3)]
    rows.append(recent(9, entities=[host("elsewhere")]))
    ingest(workspace, *rows)
    rule(workspace, name="Same host (24 h)", entity_kinds=["host"])
    return rows


def run(*args) -> str:
    out = StringIO()
    call_command("correlate", *args, stdout=out, stderr=out)
    return out.getvalue()


def test_a_dry_run_shows_the_groups_and_changes_nothing(workspace, lone_alerts):
    before = snapshot()

    output = run("--workspace", workspace.name, "--since", "1d", "--dry-run")

    assert snapshot() == before
    assert output.startswith("Dry run: nothing was changed. 4 alerts.")
    assert "Rule “Same host (24 h)”: 3 alerts, would make a new incident" in output
    assert "same host mb-winclient.niseko.example" in output
    # The lone alert on another host starts a group of its own under the same rule.
    assert "Rule “Same host (24 h)”: 1 alert, would make a new incident" in output
    assert output.rstrip().endswith("No rule takes 0 alerts.")


def test_applying_regroups_alerts_alone_in_untouched_incidents(workspace, lone_alerts):
    output = run("--workspace", workspace.name, "--since", "1d")

    assert "Regrouped 2 alerts into 1 incident." in output
    together = {incident_of(r) for r in lone_alerts[:3]}
    assert len(together) == 1
    assert incident_of(lone_alerts[3]) not in together
    emptied = Incident.objects.filter(alert_count=0)
    assert {i.status for i in emptied} == {IncidentStatus.CLOSED}


def test_applying_never_moves_an_alert_an_analyst_worked_on(workspace, lone_alerts, actor):
    worked_on = incident_of(lone_alerts[1])
    actions.add_comment(worked_on, "Looked at this one.", actor=actor)

    run("--workspace", workspace.name, "--since", "1d")

    assert incident_of(lone_alerts[1]) == worked_on
    assert incident_of(lone_alerts[0]) == incident_of(lone_alerts[2])


def test_applying_twice_changes_nothing_the_second_time(workspace, lone_alerts):
    run("--workspace", workspace.name, "--since", "1d")
    before = snapshot()

    output = run("--workspace", workspace.name, "--since", "1d")

    assert "Regrouped 0 alerts" in output
    assert snapshot() == before


def test_one_rule_can_be_tried_alone(workspace, lone_alerts):
    other = rule(workspace, name="By account", entity_kinds=["account"])
    output = run("--workspace", workspace.name, "--dry-run", "--rule", str(other.pk))
    assert "Same host" not in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workspace", "nope"], "There is no workspace “nope”"),
        (["--since", "a week"], "is not a period"),
        (["--rule", "999999"], "has no rule 999999"),
    ],
)
def test_bad_arguments_are_clear_errors(workspace, args, message):
    base = ["--workspace", workspace.name]
    with pytest.raises(CommandError, match=message):
        call_command("correlate", *base, *args, stdout=StringIO())
