#!/usr/bin/env python
"""Server time of the queues, the typeahead and the admin changelists, measured in-process.

Run it on a seeded database, for example (PostgreSQL, the issue's sizes):

    scripts/with-postgres.sh bash -c '.venv/bin/python manage.py migrate -v0 &&
      .venv/bin/python manage.py seed_demo --incidents 100000 --alerts 1000000 \\
        --password demo-pass-123 &&
      .venv/bin/python scripts/bench_queues.py --runs 30'

Each page is requested through Django's test client (no network, no browser): a few
warm-up requests, then `--runs` timed ones, reporting the median and 90th percentile
server time and the number of SQL queries of one request. The budget of the issue is
checked at the end: queue first pages under 50 ms, the typeahead under 20 ms, at most
10 queries each.
"""

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triage.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from incidents.access import SESSION_KEY  # noqa: E402
from incidents.models import Alert, Incident, IncidentStatus, Workspace  # noqa: E402

# (label, budget in ms) for the pages the issue sets a budget for.
BUDGETS = {"queue": 50.0, "typeahead": 20.0}
MAX_QUERIES = 10


@dataclass
class Result:
    label: str
    url: str
    kind: str
    status: int
    queries: int
    median_ms: float
    p90_ms: float
    best_ms: float


def measure(client: Client, label: str, url: str, kind: str, runs: int, warmup: int) -> Result:
    for _ in range(warmup):
        client.get(url)
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    timings.sort()
    return Result(
        label=label,
        url=url,
        kind=kind,
        status=response.status_code,
        queries=len(queries),
        median_ms=statistics.median(timings),
        p90_ms=timings[min(len(timings) - 1, int(len(timings) * 0.9))],
        best_ms=timings[0],
    )


def client_for(username: str, workspace: Workspace) -> Client:
    # A host that DJANGO_ALLOWED_HOSTS allows by default ("testserver" is not one).
    client = Client(HTTP_HOST="localhost")
    client.force_login(get_user_model().objects.get(username=username))
    session = client.session
    session[SESSION_KEY] = workspace.pk
    session.save()
    return client


def pages(workspace: Workspace) -> list[tuple[str, str, str]]:
    """(label, url, kind) of every page measured."""
    busiest = Incident.objects.filter(workspace=workspace).order_by("-alert_count").first()
    latest = Incident.objects.filter(workspace=workspace).order_by("-number").first()
    alert = Alert.objects.filter(workspace=workspace).order_by("-time_generated", "-id").first()
    word = max(latest.title.split(), key=len)
    return [
        ("Incidents queue, first page", "/incidents/", "queue"),
        ("Incidents queue, all statuses", "/incidents/?status=", "queue"),
        ("Incidents queue, High, by severity", "/incidents/?severity=High&sort=-severity", "page"),
        ("Incidents queue, Closed", f"/incidents/?status={IncidentStatus.CLOSED}", "page"),
        ("Incidents queue, by status", "/incidents/?sort=status", "page"),
        ("Incidents queue, by owner", "/incidents/?sort=-owner", "page"),
        ("Incidents queue, product contains", "/incidents/?product=defender", "page"),
        ("Incidents queue, a tactic", "/incidents/?tactic=Persistence&status=", "page"),
        ("Incidents queue, a label", "/incidents/?label=Merged&status=", "page"),
        ("Alerts queue, first page", "/alerts/", "queue"),
        ("Alerts queue, High", "/alerts/?severity=High", "page"),
        ("Alerts queue, by status", "/alerts/?sort=-status", "page"),
        ("Alerts queue, provider contains", "/alerts/?provider=defender", "page"),
        ("Typeahead, empty", "/incidents/search/", "typeahead"),
        ("Typeahead, a number", f"/incidents/search/?incident={latest.number // 2}", "typeahead"),
        ("Typeahead, a title word", f"/incidents/search/?incident={word}", "typeahead"),
        ("Typeahead, no match", "/incidents/search/?incident=zzqx", "page"),
        (
            f"Expanded row, #{busiest.number} ({busiest.alert_count} alerts)",
            f"/incidents/{busiest.number}/alerts/rows/",
            "page",
        ),
        ("Incident Alerts tab", f"/incidents/{busiest.number}/alerts/", "page"),
        ("Incident Activity tab", f"/incidents/{busiest.number}/activity/", "page"),
        ("Alert page", f"/alerts/{alert.system_alert_id}/", "page"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default="demo")
    parser.add_argument("--user", default="analyst", help="A member of the workspace.")
    parser.add_argument("--admin", default="admin", help="A superuser, for the admin pages.")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()

    workspace = Workspace.objects.get(name=args.workspace)
    incidents = Incident.objects.filter(workspace=workspace).count()
    alerts = Alert.objects.filter(workspace=workspace).count()
    print(
        f"{connection.vendor} · workspace {workspace.name}: {incidents:,} incidents, "
        f"{alerts:,} alerts · {args.runs} runs after {args.warmup} warm-up"
    )
    analyst = client_for(args.user, workspace)
    admin = client_for(args.admin, workspace)
    results = [measure(analyst, *page, args.runs, args.warmup) for page in pages(workspace)]
    for label, url in [
        ("Admin incidents changelist", "/admin/incidents/incident/"),
        ("Admin alerts changelist", "/admin/incidents/alert/"),
    ]:
        results.append(measure(admin, label, url, "admin", args.runs, args.warmup))

    print(f"\n{'page':48} {'status':>6} {'queries':>7} {'median':>9} {'p90':>9} {'best':>9}")
    failures = []
    for r in results:
        print(
            f"{r.label:48} {r.status:>6} {r.queries:>7} {r.median_ms:>7.1f}ms "
            f"{r.p90_ms:>7.1f}ms {r.best_ms:>7.1f}ms"
        )
        budget = BUDGETS.get(r.kind)
        if r.status != 200:
            failures.append(f"{r.label}: HTTP {r.status}")
        if budget and r.median_ms > budget:
            failures.append(f"{r.label}: median {r.median_ms:.1f} ms > {budget:.0f} ms")
        if budget and r.queries > MAX_QUERIES:
            failures.append(f"{r.label}: {r.queries} queries > {MAX_QUERIES}")
    print()
    for failure in failures:
        print(f"OVER BUDGET  {failure}")
    if not failures:
        print("Within budget: queues < 50 ms, typeahead < 20 ms, at most 10 queries.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
