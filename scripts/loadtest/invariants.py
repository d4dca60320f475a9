#!/usr/bin/env python
"""The rules that always hold (DESIGN.md), checked in SQL on the database of DATABASE_URL.

    DATABASE_URL=postgres://... .venv/bin/python scripts/loadtest/invariants.py

`scripts/loadtest/run.sh` runs it after the load. Each check is a query for the rows that
break a rule; it prints each with "ok" or how many rows broke it and a few of them, and
exits 1 when any did. PostgreSQL only (the checks of the change log read its JSON).
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triage.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from incidents.models import (  # noqa: E402
    ActivityEntry,
    Alert,
    AlertDay,
    Incident,
    IncidentEntity,
    MembershipChange,
    Relation,
    Workspace,
)

SHOWN = 5


def checks() -> list[tuple[str, str, list]]:
    """(rule, query for the rows that break it, parameters)."""
    q = connection.ops.quote_name
    incident, alert, relation = (q(m._meta.db_table) for m in (Incident, Alert, Relation))
    activity, workspace = q(ActivityEntry._meta.db_table), q(Workspace._meta.db_table)
    change = q(MembershipChange._meta.db_table)
    links = q(Alert.entities.through._meta.db_table)
    entity_rows, alert_days = q(IncidentEntity._meta.db_table), q(AlertDay._meta.db_table)
    touched = q(MembershipChange.incidents.through._meta.db_table)
    cap = settings.TRIAGE_MAX_ALERTS_PER_INCIDENT
    alert_counts = f"""
        SELECT incident_id, COUNT(*) AS n FROM {relation}
        WHERE alert_id IS NOT NULL GROUP BY incident_id"""
    found = [
        (
            f"1. no incident holds more than {cap} alerts (its relations, and its stored count)",
            f"""SELECT i.number, COALESCE(c.n, 0), i.alert_count FROM {incident} i
                LEFT JOIN ({alert_counts}) c ON c.incident_id = i.id
                WHERE COALESCE(c.n, 0) > %s OR i.alert_count > %s ORDER BY i.number""",
            [cap, cap],
        ),
        (
            "2. an alert and its incidents are in the same workspace",
            f"""SELECT i.number, a.system_alert_id FROM {relation} r
                JOIN {incident} i ON i.id = r.incident_id JOIN {alert} a ON a.id = r.alert_id
                WHERE a.workspace_id <> i.workspace_id""",
            [],
        ),
        (
            "3. an alert is related to an incident at most once",
            f"""SELECT incident_id, alert_id, COUNT(*) FROM {relation}
                WHERE alert_id IS NOT NULL GROUP BY incident_id, alert_id HAVING COUNT(*) > 1""",
            [],
        ),
        (
            "4. every alert belongs to at least one incident",
            f"""SELECT a.system_alert_id FROM {alert} a
                WHERE NOT EXISTS (SELECT 1 FROM {relation} r WHERE r.alert_id = a.id)""",
            [],
        ),
    ]
    for provider, sources in settings.TRIAGE_SELF_CORRELATING_PROVIDERS.items():
        names = [name.casefold() for name in (provider, *sources)]
        managed = "(lower(a.provider_name) = ANY(%s) OR lower(a.product_name) = ANY(%s))"
        found += [
            (
                f"5. no {provider} alert was added to a {provider} incident here",
                f"""SELECT i.number, a.system_alert_id, r.reason FROM {relation} r
                    JOIN {incident} i ON i.id = r.incident_id JOIN {alert} a ON a.id = r.alert_id
                    WHERE i.provider_name = %s AND r.reason <> 'ingestion' AND {managed}""",
                [provider, names, names],
            ),
            (
                f"5. no {provider} alert was moved or removed from a {provider} incident here",
                f"""SELECT c.uuid, i.number, a.system_alert_id FROM {change} c
                    CROSS JOIN LATERAL jsonb_array_elements(c.data->'removed') AS row
                    JOIN {incident} i ON i.id = (row->>'incident')::bigint
                    JOIN {alert} a ON a.id = (row->>'alert')::bigint
                    WHERE i.provider_name = %s AND {managed}""",
                [provider, names, names],
            ),
        ]
    found += [
        (
            "6. every incident a move, merge or remove touched has its activity entry",
            f"""SELECT c.uuid, c.kind, i.number FROM {touched} t
                JOIN {change} c ON c.id = t.membershipchange_id
                JOIN {incident} i ON i.id = t.incident_id
                WHERE NOT EXISTS (
                    SELECT 1 FROM {activity} e
                    WHERE e.incident_id = t.incident_id AND e.details->>'change' = c.uuid::text
                )""",
            [],
        ),
        (
            "stored alert counts equal the incidents' alert relations",
            f"""SELECT i.number, i.alert_count, COALESCE(c.n, 0) FROM {incident} i
                LEFT JOIN ({alert_counts}) c ON c.incident_id = i.id
                WHERE i.alert_count <> COALESCE(c.n, 0) ORDER BY i.number""",
            [],
        ),
        (
            "incident numbers: each workspace's next number is above every number given",
            f"""SELECT w.name, w.next_incident_number, MAX(i.number) FROM {workspace} w
                JOIN {incident} i ON i.workspace_id = w.id
                GROUP BY w.id HAVING MAX(i.number) >= w.next_incident_number""",
            [],
        ),
        (
            "each incident's entity rows are its alerts' entities, flagged open as it is",
            f"""WITH expected AS (
                    SELECT DISTINCT r.incident_id, l.entity_id,
                        i.status IN ('New', 'Active') AS open
                    FROM {relation} r JOIN {links} l ON l.alert_id = r.alert_id
                    JOIN {incident} i ON i.id = r.incident_id
                ), stored AS (SELECT incident_id, entity_id, open FROM {entity_rows})
                (SELECT 'missing', * FROM expected EXCEPT SELECT 'missing', * FROM stored)
                UNION ALL
                (SELECT 'extra', * FROM stored EXCEPT SELECT 'extra', * FROM expected)""",
            [],
        ),
        (
            "each incident's products are its alerts' products",
            f"""SELECT i.number, i.products, e.products FROM {incident} i
                LEFT JOIN (
                    SELECT r.incident_id,
                        jsonb_agg(DISTINCT a.product_name ORDER BY a.product_name) AS products
                    FROM {relation} r JOIN {alert} a ON a.id = r.alert_id
                    WHERE a.product_name <> '' GROUP BY r.incident_id
                ) e ON e.incident_id = i.id
                WHERE i.products <> COALESCE(e.products, '[]'::jsonb)""",
            [],
        ),
        (
            "alerts per day equal the alerts of each day, of each workspace and entity",
            f"""WITH expected AS (
                    SELECT a.workspace_id, NULL::bigint AS entity_id,
                        (a.time_generated AT TIME ZONE 'UTC')::date AS day, COUNT(*) AS n
                    FROM {alert} a GROUP BY 1, 2, 3
                    UNION ALL
                    SELECT a.workspace_id, l.entity_id,
                        (a.time_generated AT TIME ZONE 'UTC')::date, COUNT(*)
                    FROM {links} l JOIN {alert} a ON a.id = l.alert_id GROUP BY 1, 2, 3
                ), stored AS (
                    SELECT workspace_id, entity_id, day, alerts::bigint FROM {alert_days}
                    WHERE alerts <> 0
                )
                (SELECT 'missing', * FROM expected EXCEPT SELECT 'missing', * FROM stored)
                UNION ALL
                (SELECT 'extra', * FROM stored EXCEPT SELECT 'extra', * FROM expected)""",
            [],
        ),
    ]
    return found


def main() -> int:
    if connection.vendor != "postgresql":
        print("The invariant checks need PostgreSQL (set DATABASE_URL).", file=sys.stderr)
        return 2
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM {Incident._meta.db_table}),"
            f" (SELECT COUNT(*) FROM {Alert._meta.db_table}),"
            f" (SELECT COUNT(*) FROM {Relation._meta.db_table} WHERE alert_id IS NOT NULL)"
        )
        incidents, alerts, relations = cursor.fetchone()
    print(f"Invariants, on {incidents:,} incidents, {alerts:,} alerts, {relations:,} relations:")
    broken = 0
    for rule, sql, params in checks():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not rows:
            print(f"  ok    {rule}")
            continue
        broken += 1
        print(f"  FAIL  {rule}: {len(rows)} row(s), e.g.")
        for row in rows[:SHOWN]:
            print(f"          {tuple(str(v) for v in row)}")
    print("All invariants hold." if not broken else f"{broken} invariant(s) broken.")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
