"""The sample SecurityAlert rows: deterministic, well formed, and telling connected stories."""

import json
import re
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from incidents.ingest.samples import (
    COLUMNS,
    DEFAULT_START,
    DEFENDER_PROVIDERS,
    JSON_COLUMNS,
    generate_rows,
    labelled_rows,
    write_sample,
)

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "security_alerts.jsonl"
LOG_ANALYTICS_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+00:00$")
TIME_COLUMNS = ("TimeGenerated", "StartTime", "EndTime", "ProcessingEndTime")
STATUSES = {"New", "InProgress", "Resolved", "Dismissed"}
SEVERITIES = {"High", "Medium", "Low", "Informational"}


@pytest.fixture(scope="module")
def labelled():
    return list(labelled_rows(1200, seed=5))


@pytest.fixture(scope="module")
def rows(labelled):
    return [row for _, row in labelled]


def _walk(node):
    """Every dict inside a decoded Entities list, nested ones included."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _incident_id(row: dict) -> str | None:
    return json.loads(row["ExtendedProperties"]).get("IncidentId")


def test_same_seed_same_rows_other_seed_other_rows():
    first = list(generate_rows(150, seed=3))
    assert first == list(generate_rows(150, seed=3))
    other = list(generate_rows(150, seed=4))
    assert {r["SystemAlertId"] for r in first}.isdisjoint(r["SystemAlertId"] for r in other)


@pytest.mark.parametrize("count", [0, 1, 2, 9, 33, 34, 101, 500])
def test_exactly_count_rows(count):
    assert sum(1 for _ in generate_rows(count, seed=count)) == count


def test_every_row_has_the_columns_with_their_types(rows):
    for row in rows:
        assert tuple(row) == COLUMNS
        for column, value in row.items():
            if column == "ConfidenceScore":
                assert value is None
            elif column == "IsIncident":
                assert value is False
            else:
                assert isinstance(value, str), column
        for column in JSON_COLUMNS:
            decoded = json.loads(row[column])
            assert isinstance(decoded, dict if column == "ExtendedProperties" else list), column
        assert json.loads(row["Entities"]), "every alert names an entity"
        for column in TIME_COLUMNS:
            assert LOG_ANALYTICS_TIME.match(row[column]), (column, row[column])
        assert row["StartTime"] <= row["EndTime"] <= row["ProcessingEndTime"]
        assert row["ProcessingEndTime"] <= row["TimeGenerated"]
        assert str(uuid.UUID(row["SystemAlertId"])) == row["SystemAlertId"]
        assert row["Status"] in STATUSES
        assert row["AlertSeverity"] in SEVERITIES
        assert row["Type"] == "SecurityAlert"
        assert all(row[column] for column in ("DisplayName", "Tactics", "ProductName"))
        assert "unknown" not in row["Description"]
        assert json.dumps(row)  # ready for json.dumps as it is


def test_rows_come_in_time_order_inside_the_window(rows):
    times = [row["TimeGenerated"] for row in rows]
    assert times == sorted(times)
    start = DEFAULT_START
    assert datetime.fromisoformat(times[0]) >= start
    assert (datetime.fromisoformat(times[-1]) - start).total_seconds() <= 72 * 3600


def test_start_and_hours_move_the_window():
    start = datetime(2025, 3, 1, 12, tzinfo=UTC)
    rows = list(generate_rows(60, seed=2, start=start, hours=2))
    for row in rows:
        seconds = (datetime.fromisoformat(row["TimeGenerated"]) - start).total_seconds()
        assert 0 <= seconds <= 2 * 3600


def test_refs_point_at_ids_of_the_same_row(rows):
    forward = 0
    for row in rows:
        entities = json.loads(row["Entities"])
        objects = list(_walk(entities))
        ids = [o["$id"] for o in objects if "$id" in o]
        refs = [o["$ref"] for o in objects if "$ref" in o]
        assert len(ids) == len(set(ids)), row["SystemAlertId"]
        assert all(i.isdigit() for i in ids)
        assert set(refs) <= set(ids), row["SystemAlertId"]
        assert all(len(o) == 1 for o in objects if "$ref" in o)
        for entity in entities:
            assert "$ref" in entity or ("$id" in entity and entity.get("Type"))
        # Some processes name their parent before the parent appears, as real exports do.
        position = {e["$id"]: n for n, e in enumerate(entities) if "$id" in e}
        for n, entity in enumerate(entities):
            parent = entity.get("ParentProcess", {}).get("$ref")
            forward += parent is not None and position.get(parent, -1) > n
    assert forward > 0


def test_defender_alerts_of_one_attack_share_an_incident_id(labelled):
    by_attack = defaultdict(set)
    for label, row in labelled:
        incident = _incident_id(row)
        if row["ProviderName"] in DEFENDER_PROVIDERS:
            assert (incident or "").isdigit(), row["DisplayName"]
            if label:
                by_attack[label].add(incident)
        else:
            assert incident is None, row["ProviderName"]
    kinds = {label.split("-")[0] for label in by_attack}
    assert kinds == {"phishing", "spray", "ransomware"}
    for label, incidents in by_attack.items():
        assert len(incidents) == 1, label
    owners = Counter(next(iter(incidents)) for incidents in by_attack.values())
    assert max(owners.values()) == 1, "each attack has its own Defender incident"


def test_a_phishing_attack_is_seen_by_four_products_sharing_entities(labelled):
    attacks = defaultdict(list)
    for label, row in labelled:
        if label and label.startswith("phishing"):
            attacks[label].append(row)
    complete = [rows for rows in attacks.values() if len(rows) >= 5]
    assert complete
    for attack in complete:
        providers = {row["ProviderName"] for row in attack}
        assert {"OATP", "MDATP", "IPC", "MCAS"} <= providers

        def values(row, key):
            return {o[key] for o in _walk(json.loads(row["Entities"])) if key in o}

        by_provider = {row["ProviderName"]: row for row in attack}
        # The user who clicked is the same Entra user on the endpoint and at sign-in…
        assert values(by_provider["MDATP"], "AadUserId") & values(by_provider["IPC"], "AadUserId")
        # …and the attacker's address signs in and downloads.
        assert values(by_provider["IPC"], "Address") & values(by_provider["MCAS"], "Address")
        assert values(by_provider["OATP"], "Url")


def test_some_alerts_are_sent_again_with_a_new_status(rows):
    seen: dict[str, dict] = {}
    resent = 0
    for row in rows:
        first = seen.get(row["SystemAlertId"])
        if first is None:
            seen[row["SystemAlertId"]] = row
            continue
        resent += 1
        assert first["Status"] == "New"
        assert row["Status"] in {"InProgress", "Resolved"}
        assert row["TimeGenerated"] > first["TimeGenerated"]
        assert row["EndTime"] > first["EndTime"]
        assert row["Entities"] == first["Entities"]
    assert resent == int(len(rows) * 0.03)


def test_spellings_vary_as_in_real_data(rows):
    hosts = [o for r in rows for o in _walk(json.loads(r["Entities"])) if o.get("Type") == "host"]
    assert any(h.get("DnsDomain", "").endswith(".") for h in hosts)
    assert any(h["HostName"].isupper() for h in hosts)
    assert any(h["HostName"].islower() for h in hosts)
    types = {o.get("Type") for r in rows for o in _walk(json.loads(r["Entities"]))}
    assert {"mailCluster", "mail-cluster", "mail-message", "cloud-logon-session"} <= types
    assert {"oauth-application", "registry-value", "security-group", "malware"} <= types


def test_popular_entities_recur(rows):
    hosts = Counter(
        o["HostName"].upper()
        for r in rows
        for o in _walk(json.loads(r["Entities"]))
        if o.get("Type") == "host" and "HostName" in o
    )
    assert len(hosts) > 100
    top = hosts.most_common(1)[0][1]
    assert top >= 10 * (sum(hosts.values()) / len(hosts)) / 3


def test_the_committed_sample_is_what_write_sample_writes(tmp_path):
    written = tmp_path / "nested" / "security_alerts.jsonl"
    write_sample(written)
    assert written.read_bytes() == SAMPLE.read_bytes(), (
        "samples/security_alerts.jsonl is stale: regenerate it (see incidents/ingest/samples.py)"
    )
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 300
    assert json.loads(lines[0])["TimeGenerated"].startswith("2026-11-23 ")
