"""`create_workspace` and `ingest_alerts`: files in, a summary out, bad rows named."""

import csv
import gzip
import io
import json
import re
import sys
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from incidents.ingest import store
from incidents.models import Alert, Incident, Membership, Relation, Workspace
from incidents.rules.defaults import DEFAULT_RULES
from tests.factories import UserFactory
from tests.ingest.builders import defender_row, row

pytestmark = pytest.mark.django_db


def run(*args, stdin: bytes | None = None, monkeypatch=None) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def write_jsonl(path, rows) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def summary(out: str) -> dict[str, int]:
    lines = (line.rsplit(":", 1) for line in out.strip().splitlines())
    return {label: int(value.replace(",", "")) for label, value in lines}


# --- create_workspace ---------------------------------------------------------


def test_create_workspace_makes_an_empty_workspace(db):
    subscription = uuid.uuid4()
    out, _ = run(
        "create_workspace",
        "lab",
        "--display-name",
        "Lab SOC",
        "--subscription-id",
        str(subscription),
        "--resource-group",
        "rg-lab",
    )

    workspace = Workspace.objects.get(name="lab")
    assert (workspace.display_name, workspace.subscription_id, workspace.resource_group) == (
        "Lab SOC",
        subscription,
        "rg-lab",
    )
    assert not workspace.incidents.exists()
    assert workspace.resource_id in out


def test_create_workspace_installs_the_default_correlation_rules(db):
    out, _ = run("create_workspace", "lab")

    workspace = Workspace.objects.get(name="lab")
    rules = list(workspace.correlation_rules.values_list("name", "enabled"))
    assert rules == [(r["name"], True) for r in DEFAULT_RULES]
    for name, _enabled in rules:
        assert f"Correlation rule: {name}" in out


def test_create_workspace_can_add_members(db):
    UserFactory(username="alice")
    UserFactory(username="bob")

    run("create_workspace", "lab", "--member", "alice:contributor", "--member", "bob")

    roles = dict(Membership.objects.values_list("user__username", "role"))
    assert roles == {"alice": "contributor", "bob": "responder"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["soc"], "A workspace named “soc” already exists."),
        (["no spaces"], "“no spaces” is not a valid workspace name"),
        (["lab", "--subscription-id", "nope"], "--subscription-id “nope” is not a UUID."),
        (["lab", "--member", "ghost"], "--member ghost: there is no user “ghost”."),
        (["lab", "--member", "x:boss"], "--member x:boss: the role must be one of"),
    ],
)
def test_create_workspace_refuses_bad_input_clearly(workspace, args, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        run("create_workspace", *args)
    assert Workspace.objects.count() == 1


# --- ingest_alerts ---------------------------------------------------------------


def test_ingest_reads_json_lines_and_prints_a_summary(workspace, tmp_path):
    rows = [row(), row(), defender_row(384), defender_row(384)]
    path = write_jsonl(tmp_path / "alerts.jsonl", rows)

    out, err = run("ingest_alerts", "--workspace", "soc", path)

    assert summary(out) == {
        "Rows read": 4,
        "Alerts new": 4,
        "Alerts updated": 0,
        "Alerts unchanged": 0,
        "Rows rejected": 0,
        "Incidents created": 3,
        "Alerts correlated into existing incidents": 0,
    }
    assert err == ""
    assert Alert.objects.count() == 4


def test_ingest_reads_a_json_array_gzipped(workspace, tmp_path):
    path = tmp_path / "alerts.json.gz"
    with gzip.open(path, "wt") as f:
        json.dump([row(), row()], f, indent=2)

    out, _ = run("ingest_alerts", "--workspace", "soc", str(path))

    assert summary(out)["Alerts new"] == 2


def test_ingest_reads_csv_as_log_analytics_exports_it(workspace, tmp_path):
    rows = [row(), row()]
    path = tmp_path / "alerts.csv"
    with path.open("w", newline="", encoding="utf-8-sig") as f:
        writer = csv.DictWriter(f, fieldnames=[f"{k} [UTC]" if "Time" in k else k for k in rows[0]])
        writer.writeheader()
        for r in rows:
            writer.writerow({(f"{k} [UTC]" if "Time" in k else k): v for k, v in r.items()})

    out, _ = run("ingest_alerts", "--workspace", "soc", str(path))

    assert summary(out)["Alerts new"] == 2
    alert = Alert.objects.get(system_alert_id=rows[0]["SystemAlertId"])
    assert alert.tactics == ["Execution", "DefenseEvasion"]
    assert alert.source_fields["ConfidenceScore"] in ("0.8", 0.8)


def test_ingest_reads_standard_input(workspace, monkeypatch):
    data = "".join(json.dumps(r) + "\n" for r in [row(), row()]).encode()

    out, _ = run("ingest_alerts", "--workspace", "soc", "-", stdin=data, monkeypatch=monkeypatch)

    assert summary(out)["Alerts new"] == 2


def test_ingest_names_each_bad_row_and_keeps_the_good_ones(workspace, tmp_path):
    path = tmp_path / "alerts.jsonl"
    good = row()
    path.write_text(
        json.dumps(good)
        + "\n{not json\n"
        + json.dumps(row(SystemAlertId=None))
        + "\n"
        + json.dumps(row(StartTime="yesterday"))
        + "\n"
    )

    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="3 rows rejected") as failure:
        call_command("ingest_alerts", "--workspace", "soc", str(path), stdout=out, stderr=err)

    assert failure.value.returncode == 1
    lines = err.getvalue().splitlines()
    assert lines[0].startswith(f"{path}, line 2: bad JSON")
    assert lines[1] == f"{path}, line 3: missing SystemAlertId"
    assert lines[2] == f"{path}, line 4: StartTime: 'yesterday' is not a time"
    assert summary(out.getvalue())["Rows rejected"] == 3
    assert list(Alert.objects.values_list("system_alert_id", flat=True)) == [
        uuid.UUID(good["SystemAlertId"])
    ]


def test_strict_imports_nothing_when_one_row_is_bad(workspace, tmp_path):
    path = write_jsonl(tmp_path / "alerts.jsonl", [row(), row(), row(AlertSeverity="Critical")])

    with pytest.raises(CommandError, match=r"nothing was imported \(--strict\)"):
        run("ingest_alerts", "--workspace", "soc", "--strict", "--batch-size", "1", path)

    assert not Alert.objects.exists()
    assert not Incident.objects.exists()


def test_an_unknown_workspace_lists_the_existing_ones(workspace, other_workspace, tmp_path):
    path = write_jsonl(tmp_path / "alerts.jsonl", [row()])

    with pytest.raises(
        CommandError,
        match=r"There is no workspace “nope”\. Existing workspaces: branch-office, soc\.",
    ):
        run("ingest_alerts", "--workspace", "nope", path)


def test_a_missing_file_or_unknown_format_is_a_clear_error(workspace, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run("ingest_alerts", "--workspace", "soc", str(tmp_path / "missing.jsonl"))
    (tmp_path / "alerts.xml").write_text("<alerts/>")
    with pytest.raises(CommandError, match="--format"):
        run("ingest_alerts", "--workspace", "soc", str(tmp_path / "alerts.xml"))


def test_an_interrupted_run_keeps_whole_batches_and_a_second_run_finishes(
    workspace, tmp_path, monkeypatch
):
    rows = [row() for _ in range(5)] + [defender_row(9) for _ in range(5)]
    path = write_jsonl(tmp_path / "alerts.jsonl", rows)
    real, calls = store.ingest_batch, []

    def crash_on_third_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr("incidents.ingest.stream.ingest_batch", crash_on_third_batch)
    with pytest.raises(SystemExit) as stop:
        run("ingest_alerts", "--workspace", "soc", "--batch-size", "3", path)
    assert stop.value.code == 130
    assert Alert.objects.count() == 6

    monkeypatch.setattr("incidents.ingest.stream.ingest_batch", real)
    out, _ = run("ingest_alerts", "--workspace", "soc", "--batch-size", "3", path)

    assert summary(out)["Alerts new"] == 4
    assert summary(out)["Alerts unchanged"] == 6
    assert Alert.objects.count() == 10
    assert Relation.objects.count() == 10
    assert Incident.objects.filter(provider_incident_id="9").count() == 1


def test_a_second_run_of_the_same_file_changes_nothing(workspace, tmp_path):
    path = write_jsonl(tmp_path / "alerts.jsonl", [row(), defender_row(1), defender_row(1)])
    run("ingest_alerts", "--workspace", "soc", path)

    out, _ = run("ingest_alerts", "--workspace", "soc", path)

    assert summary(out)["Alerts unchanged"] == 3
    assert summary(out)["Incidents created"] == 0
    assert Incident.objects.count() == 2


def test_quiet_with_verbosity_zero(workspace, tmp_path):
    path = write_jsonl(tmp_path / "alerts.jsonl", [row()])

    out, err = run("ingest_alerts", "--workspace", "soc", "-v0", path)

    assert (out, err) == ("", "")
    assert Alert.objects.count() == 1


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_progress_bar_in_bytes_of_the_files(workspace, tmp_path):
    path = write_jsonl(tmp_path / "alerts.jsonl", [row(), row(), row()])
    size = (tmp_path / "alerts.jsonl").stat().st_size
    err = Terminal()

    call_command("ingest_alerts", "--workspace", "soc", path, stdout=io.StringIO(), stderr=err)

    assert f"100% {size:,}/{size:,} bytes" in err.getvalue()
    assert err.getvalue().startswith("\r[")


def test_no_progress_bar_when_not_on_a_terminal(workspace, tmp_path):
    path = write_jsonl(tmp_path / "alerts.jsonl", [row()])

    _, err = run("ingest_alerts", "--workspace", "soc", path)

    assert "bytes" not in err


def test_bench_ingest_reports_speed_memory_and_queries_per_batch(db):
    out, _ = run("bench_ingest", "--alerts", "60", "--batch-size", "20", "--seed", "5")

    assert "ingesting 60 (seed 5)" in out
    assert re.search(r"alerts/s; peak memory [\d,]+ MB; queries per batch: \d+( to \d+)?\.", out)
    assert re.search(r"CPU per alert: [\d.]+ ms in this process", out)
    if connection.vendor == "postgresql":
        # The server runs on this machine: its process's share, and the bound of both.
        assert re.search(
            r", [\d.]+ ms in its PostgreSQL server process; \d+ cores would ingest at most "
            r"[\d,]+ alerts/s\.",
            out,
        )
    workspace = Workspace.objects.get(name__startswith="bench-")
    assert workspace.alerts.count() > 50
    assert not Alert.objects.filter(relations__isnull=True).exists()
