#!/usr/bin/env python
"""Server time of every queue, incident tab and panel beside the admin changelists, in-process.

Run it on a seeded database, for example (PostgreSQL, the issue's sizes):

    scripts/with-postgres.sh bash -c '.venv/bin/python manage.py migrate -v0 &&
      .venv/bin/python manage.py seed_demo --incidents 100000 --alerts 1000000 \\
        --password demo-pass-123 &&
      .venv/bin/python scripts/bench_queues.py --runs 30'

Each page is requested through Django's test client (no network, no browser) with DEBUG
off, as production serves it. Pages are whole pages, except the fragments only htmx asks
for (an expanded row, the details panel, similar incidents, "Show more alerts"). After
`--warmup` rounds, `--runs` rounds each request every page once, in an order shuffled per
round (fixed seed), so noise falls on every page alike. Per page: the queries of a request,
the median and 90th percentile server time, the median time inside SQL (an execute
wrapper times every statement), the page's median over its SQL's ("×SQL") and over the
admin incidents changelist's ("×admin"). Then the pages over the issue's goals: median
60 ms, p90 100 ms, 0.5× the admin changelist, and for queues and tabs 4× their SQL.
Exits 1 when a page does not answer 200.

`--json FILE` writes the results; `--scale FILE...` prints the medians of several such
files (scripts/bench_scale.sh: 10k, 100k and 1M alerts) side by side with their growth.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote_plus

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triage.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, QuerySet  # noqa: E402
from django.test import Client  # noqa: E402

from incidents import selectors  # noqa: E402
from incidents.access import SESSION_KEY  # noqa: E402
from incidents.filters import TACTIC_CHOICES  # noqa: E402
from incidents.models import (  # noqa: E402
    Alert,
    Entity,
    Incident,
    IncidentStatus,
    Relation,
    Workspace,
)

MEDIAN_MS = 60.0
P90_MS = 100.0
ADMIN_RATIO = 0.5
SQL_RATIO = 4.0
# The kinds the issue calls fast: they should cost at most SQL_RATIO times their SQL.
FAST = {"queue", "tab"}
GROWTH = 1.5
REFERENCE = "Admin incidents changelist"
ENTITY_LINKS = Alert.entities.through
# The busiest incident is the one with most entities of this many with most alerts.
CANDIDATES = 20


@dataclass
class Page:
    label: str
    url: str
    kind: str
    # Fragments that only htmx asks for are requested as htmx does.
    htmx: bool = False


@dataclass
class Result:
    label: str
    url: str
    kind: str
    status: int = 0
    queries: int = 0
    times_ms: list[float] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)
    median_ms: float = 0.0
    p90_ms: float = 0.0
    median_sql_ms: float = 0.0
    sql_ratio: float = 0.0
    admin_ratio: float = 0.0


class SqlTimer:
    """An execute wrapper: time and number of the statements run since `reset`."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.ms = 0.0
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.ms += (time.perf_counter() - start) * 1000
            self.count += 1


def client_for(username: str, workspace: Workspace) -> Client:
    # A host that DJANGO_ALLOWED_HOSTS allows by default ("testserver" is not one); a
    # failing page answers 500 and the others are still measured.
    client = Client(HTTP_HOST="localhost", raise_request_exception=False)
    client.force_login(get_user_model().objects.get(username=username))
    session = client.session
    session[SESSION_KEY] = workspace.pk
    session.save()
    return client


def longest_word(text: str) -> str:
    return max(text.split(), key=len)


def busiest_incident(incidents: QuerySet) -> tuple[Incident, int]:
    """Of the incidents with most alerts, the one with most entities, and their number."""
    candidates = incidents.order_by("-alert_count", "number")[:CANDIDATES]
    links = ENTITY_LINKS.objects.filter(alert__relations__incident__in=candidates)
    incident = "alert__relations__incident"
    counts = links.values(incident).annotate(n=Count("entity_id", distinct=True))
    top = counts.order_by("-n", incident)[0]
    return Incident.objects.get(pk=top[incident]), top["n"]


def entity_subjects(workspace: Workspace) -> tuple[Incident, Entity, int, Entity, int]:
    """(an incident, the entity in most alerts and their number, an entity of the same
    incident in fewest alerts and theirs): the entity panel's worst and usual case."""
    links = ENTITY_LINKS.objects.filter(entity__workspace=workspace).values("entity_id")
    top = links.annotate(alerts=Count("alert_id")).order_by("-alerts", "entity_id")[0]
    busy = Entity.objects.get(pk=top["entity_id"])
    holding = Relation.objects.filter(alert__entities=busy).order_by("-incident__alert_count")
    incident = holding.select_related("incident")[0].incident
    entities = ENTITY_LINKS.objects.filter(alert__relations__incident=incident).values("entity_id")
    quiet_links = ENTITY_LINKS.objects.filter(entity_id__in=entities).values("entity_id")
    low = quiet_links.annotate(alerts=Count("alert_id")).order_by("alerts", "entity_id")[0]
    quiet = Entity.objects.get(pk=low["entity_id"])
    return incident, busy, top["alerts"], quiet, low["alerts"]


def rarest_product(workspace: Workspace) -> tuple[str, int]:
    alerts = Alert.objects.filter(workspace=workspace).exclude(product_name="")
    row = alerts.values("product_name").annotate(n=Count("id")).order_by("n", "product_name")[0]
    return row["product_name"], row["n"]


def rarest_tactic(workspace: Workspace) -> tuple[str, int]:
    """Of the tactics the filters offer, the one in fewest alerts (often none: the ICS
    ones), and their number."""
    alerts = Alert.objects.filter(workspace=workspace)
    counts = [(alerts.filter(tactics__contains=[t]).count(), t) for t, _ in TACTIC_CHOICES]
    n, tactic = min(counts)
    return tactic, n


def pages(workspace: Workspace) -> tuple[list[Page], list[str]]:
    """Every page measured, and what they were chosen from (the run's header)."""
    incidents = Incident.objects.filter(workspace=workspace)
    busiest, entity_count = busiest_incident(incidents)
    latest = incidents.order_by("-number").first()
    alert = Alert.objects.filter(workspace=workspace).order_by("-time_generated", "-id").first()
    title_word = longest_word(latest.title)
    name_word = longest_word(alert.display_name)
    product, product_alerts = rarest_product(workspace)
    tactic, tactic_alerts = rarest_tactic(workspace)
    title_q, name_q, product_q = (quote_plus(v) for v in (title_word, name_word, product))
    entity_incident, busy, busy_alerts, quiet, quiet_alerts = entity_subjects(workspace)
    number = busiest.number
    panel = f"/incidents/{entity_incident.number}/entities"
    graph = f"/incidents/{entity_incident.number}/graph/entities/{busy.pk}"
    header = [
        f"busiest incident #{number}: {busiest.alert_count:,} alerts, {entity_count:,} entities",
        f"entity panel in #{entity_incident.number}: {busy.kind} {busy.pk} in "
        f"{busy_alerts:,} alerts, {quiet.kind} {quiet.pk} in {quiet_alerts:,}",
        f"rarest tactic: {tactic} ({tactic_alerts:,} alerts)",
        f"rarest product: {product} ({product_alerts:,} alerts) · searched: "
        f"{name_word!r} (alert names), {title_word!r} (incident titles)",
    ]
    # "Show more alerts" under the entity's Timeline card, when it has more than a page.
    more = selectors.entity_timeline(busy, entity_incident, None).next_cursor
    url = f"{panel}/{busy.pk}/?cursor={more}"
    timeline = [Page("Entity timeline, more alerts", url, "panel", htmx=True)] if more else []
    incident_queue = {
        "first page": "",
        "all statuses": "?status=",
        "High, by severity": "?severity=High&sort=-severity",
        "Closed": f"?status={IncidentStatus.CLOSED}",
        "by most alerts": "?sort=-alerts",
        "by fewest alerts": "?sort=alerts",
        "by severity": "?sort=-severity",
        "by title": "?sort=title",
        "by created": "?sort=created",
        "by number": "?sort=number",
        "by status": "?sort=status",
        "by owner": "?sort=-owner",
        "product contains": "?product=defender",
        "rarest product": f"?product={product_q}",
        "a tactic": "?tactic=Persistence&status=",
        "rarest tactic": f"?tactic={tactic}&status=",
        "a label": "?label=Merged&status=",
        "search a word": f"?q={title_q}&status=",
        "search no match": "?q=zzqxv&status=",
    }
    alert_queue = {
        "first page": "",
        "High": "?severity=High",
        "by severity": "?sort=severity",
        "by severity desc": "?sort=-severity",
        "by name": "?sort=name",
        "by product": "?sort=product",
        "by time": "?sort=time",
        "by status": "?sort=-status",
        "provider contains": "?provider=defender",
        "rarest product": f"?product={product_q}",
        "rarest tactic": f"?tactic={tactic}",
        "search a word": f"?q={name_q}",
        "search no match": "?q=zzqxv",
    }
    typeahead = {
        "empty": "",
        "a number": f"?incident={latest.number // 2}",
        "a title word": f"?incident={title_q}",
        "no match": "?incident=zzqx",
    }
    tab = f"/incidents/{number}"
    admin_alerts = "/admin/incidents/alert/"
    product_filter = f"product_name__exact={product_q}"
    return [
        *variants("Incidents queue", "/incidents/", "queue", incident_queue),
        *variants("Alerts queue", "/alerts/", "queue", alert_queue),
        *variants("Typeahead", "/incidents/search/", "typeahead", typeahead),
        Page("Expanded row, busiest", f"{tab}/alerts/rows/", "panel", htmx=True),
        Page("Details panel, busiest", f"{tab}/panel/", "panel", htmx=True),
        Page("Overview tab, busiest", f"{tab}/", "tab"),
        Page("Similar incidents, busiest", f"{tab}/similar/", "panel", htmx=True),
        Page("Alerts tab, busiest", f"{tab}/alerts/", "tab"),
        Page("Entities tab, busiest", f"{tab}/entities/", "tab"),
        Page("Activity tab, busiest", f"{tab}/activity/", "tab"),
        Page("Graph tab, busiest", f"{tab}/graph/", "tab"),
        Page("Graph JSON, busiest", f"{tab}/graph.json", "json"),
        Page("Entity panel, entity in most alerts", f"{panel}/{busy.pk}/", "panel"),
        Page("Entity panel, entity in fewest alerts", f"{panel}/{quiet.pk}/", "panel"),
        *timeline,
        Page("Graph related alerts, most alerts", f"{graph}/related-alerts.json", "json"),
        Page("Graph related incidents, most alerts", f"{graph}/related-incidents.json", "json"),
        Page("Alert page", f"/alerts/{alert.system_alert_id}/", "page"),
        Page("Admin alerts changelist", admin_alerts, "admin"),
        Page("Admin alerts changelist, search", f"{admin_alerts}?q={name_q}", "admin"),
        Page("Admin alerts changelist, a product", f"{admin_alerts}?{product_filter}", "admin"),
        Page(REFERENCE, "/admin/incidents/incident/", "admin"),
    ], header


def variants(name: str, path: str, kind: str, queries: dict[str, str]) -> list[Page]:
    """A page with each query string, labelled "name, variant"."""
    return [Page(f"{name}, {variant}", f"{path}{q}", kind) for variant, q in queries.items()]


def percentile(values: list[float], share: float) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def measure(
    found: list[Page], clients: dict[bool, Client], runs: int, warmup: int, seed: int
) -> list[Result]:
    timer = SqlTimer()
    results = {page.label: Result(page.label, page.url, page.kind) for page in found}
    order = list(found)
    shuffle = random.Random(seed).shuffle
    with connection.execute_wrapper(timer):
        for round_ in range(warmup + runs):
            shuffle(order)
            for page in order:
                result = results[page.label]
                if round_ and result.status != 200:
                    continue
                headers = {"HX-Request": "true"} if page.htmx else {}
                client = clients[page.kind == "admin"]
                timer.reset()
                start = time.perf_counter()
                response = client.get(page.url, headers=headers)
                elapsed = (time.perf_counter() - start) * 1000
                result.status = response.status_code
                if response.status_code != 200:
                    error = f": {response.exc_info[1]!r}" if response.exc_info else ""
                    print(f"{page.label}: HTTP {response.status_code}{error}", file=sys.stderr)
                    continue
                result.queries = max(result.queries, timer.count)
                if round_ >= warmup:
                    result.times_ms.append(elapsed)
                    result.sql_ms.append(timer.ms)
    measured = [results[page.label] for page in found]
    for r in measured:
        if r.times_ms:
            r.median_ms = statistics.median(r.times_ms)
            r.p90_ms = percentile(r.times_ms, 0.9)
            r.median_sql_ms = statistics.median(r.sql_ms)
            r.sql_ratio = r.median_ms / r.median_sql_ms if r.median_sql_ms else 0.0
    reference = results[REFERENCE].median_ms
    for r in measured:
        r.admin_ratio = r.median_ms / reference if reference else 0.0
    return measured


def over_goals(r: Result) -> list[str]:
    if r.kind == "admin" or r.status != 200:
        return []
    over = []
    if r.median_ms > MEDIAN_MS:
        over.append(f"median {r.median_ms:.1f} ms > {MEDIAN_MS:.0f} ms")
    if r.p90_ms > P90_MS:
        over.append(f"p90 {r.p90_ms:.1f} ms > {P90_MS:.0f} ms")
    if r.admin_ratio > ADMIN_RATIO:
        over.append(f"{r.admin_ratio:.2f}× admin > {ADMIN_RATIO}×")
    if r.kind in FAST and r.sql_ratio > SQL_RATIO:
        over.append(f"{r.sql_ratio:.1f}× SQL > {SQL_RATIO:.0f}×")
    return over


def print_results(results: list[Result]) -> None:
    print(
        f"\n{'page':40} {'status':>6} {'queries':>7} {'median':>9} {'p90':>9} {'SQL':>9} "
        f"{'×SQL':>5} {'×admin':>6}"
    )
    for r in results:
        if r.status != 200:
            print(f"{r.label:40} {r.status:>6}")
            continue
        print(
            f"{r.label:40} {r.status:>6} {r.queries:>7} {r.median_ms:>7.1f}ms "
            f"{r.p90_ms:>7.1f}ms {r.median_sql_ms:>7.1f}ms {r.sql_ratio:>5.1f} "
            f"{r.admin_ratio:>6.2f}"
        )
    print()
    over = [(r.label, o) for r in results if (o := over_goals(r))]
    for label, reasons in over:
        print(f"OVER GOAL  {label}: {'; '.join(reasons)}")
    if not over:
        print(
            f"Within the goals: median ≤ {MEDIAN_MS:.0f} ms, p90 ≤ {P90_MS:.0f} ms, "
            f"≤ {ADMIN_RATIO}× admin, queues and tabs ≤ {SQL_RATIO:.0f}× their SQL."
        )


def size(alerts: int) -> str:
    """10k, 100k, 1M: a column heading."""
    for unit, scale in [("M", 1_000_000), ("k", 1_000)]:
        if alerts >= scale:
            return f"{alerts / scale:.3g}{unit}"
    return str(alerts)


def print_scale(files: list[str]) -> None:
    """One row per page: its median at each size and the growth from smallest to largest."""
    runs = sorted((json.loads(Path(f).read_text()) for f in files), key=lambda r: r["alerts"])
    medians = [{p["label"]: p["median_ms"] for p in r["pages"] if p["status"] == 200} for r in runs]
    heads = "".join(f"{size(run['alerts']):>9}" for run in runs)
    growth_head = f"{size(runs[-1]['alerts'])}/{size(runs[0]['alerts'])}"
    print(f"{'page (median ms)':40}{heads} {growth_head:>9}")
    grown = []
    for page in runs[-1]["pages"]:
        label = page["label"]
        cells = "".join(f"{m[label]:>9.1f}" if label in m else f"{'-':>9}" for m in medians)
        first, last = medians[0].get(label), medians[-1].get(label)
        growth = last / first if first and last else None
        flag = f"  > {GROWTH}×" if growth and growth > GROWTH else ""
        if flag:
            grown.append(label)
        print(f"{label:40}{cells} {f'{growth:.2f}×' if growth else '-':>9}{flag}")
    print(f"\n{len(grown)} of {len(runs[-1]['pages'])} pages grew more than {GROWTH}×.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default="demo")
    parser.add_argument("--user", default="analyst", help="A member of the workspace.")
    parser.add_argument("--admin", default="admin", help="A superuser, for the admin pages.")
    parser.add_argument("--runs", type=int, default=20, help="Timed rounds.")
    parser.add_argument("--warmup", type=int, default=2, help="Untimed rounds first.")
    parser.add_argument("--seed", type=int, default=14, help="Seed of the rounds' order.")
    parser.add_argument("--json", metavar="FILE", help="Also write the results here.")
    parser.add_argument(
        "--scale", nargs="+", metavar="FILE", help="Print the scale table of --json files."
    )
    parser.add_argument(
        "--no-vacuum",
        action="store_true",
        help="Skip VACUUM ANALYZE (PostgreSQL) before measuring.",
    )
    args = parser.parse_args()
    if args.scale:
        print_scale(args.scale)
        return 0

    # Time the pages as production serves them: no query log, no template debugging.
    settings.DEBUG = False
    if connection.vendor == "postgresql" and not args.no_vacuum:
        # As autovacuum leaves a database: freshly loaded rows would otherwise cost heap
        # fetches on index-only scans and stale statistics, which no real install has.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    workspace = Workspace.objects.get(name=args.workspace)
    incidents = Incident.objects.filter(workspace=workspace).count()
    alerts = Alert.objects.filter(workspace=workspace).count()
    found, header = pages(workspace)
    print(
        f"{connection.vendor} · workspace {workspace.name}: {incidents:,} incidents, "
        f"{alerts:,} alerts · {len(found)} pages · {args.runs} rounds after {args.warmup} "
        "warm-up"
    )
    for line in header:
        print(f"  {line}")
    clients = {False: client_for(args.user, workspace), True: client_for(args.admin, workspace)}
    results = measure(found, clients, args.runs, args.warmup, args.seed)
    print_results(results)
    if args.json:
        run = {"incidents": incidents, "alerts": alerts, "runs": args.runs, "subjects": header}
        run["pages"] = [asdict(r) for r in results]
        Path(args.json).write_text(json.dumps(run, indent=1))
    return 0 if all(r.status == 200 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
