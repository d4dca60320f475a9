#!/usr/bin/env python
"""The investigation graph's speed: its JSON on the server, and the page in Chromium.

Builds (once) an incident of 150 alerts naming 400 entities, one of them also in 200
alerts outside it, in the database the settings name, then measures:

- `graph.json` and `related-alerts.json` through Django's test client: SQL queries of
  one request, median and 90th percentile server time over `--runs`;
- the page in the Debian Chromium (Playwright, served by a WSGI server on 127.0.0.1):
  the time from navigation to the graph drawn and listed (`graph-ready`, marked by
  static/js/graph.js), the layout's share of it, and the longest task that kept the
  tab busy (a long task over 50 ms is what "freezing" means to the browser).

Run it, for example, on PostgreSQL:

    scripts/with-postgres.sh bash -c '.venv/bin/python manage.py migrate -v0 &&
      .venv/bin/python scripts/bench_graph.py --runs 30'
"""

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triage.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from incidents import membership  # noqa: E402
from incidents.access import SESSION_KEY  # noqa: E402
from incidents.activity import Actor  # noqa: E402
from incidents.models import (  # noqa: E402
    Alert,
    Entity,
    EntityKind,
    Incident,
    Membership,
    Role,
    Via,
    Workspace,
)

WORKSPACE = "bench-graph"
ALERTS, ENTITIES, OUTSIDE = 150, 400, 200
KINDS = [EntityKind.HOST, EntityKind.ACCOUNT, EntityKind.IP, EntityKind.URL, EntityKind.FILEHASH]
SEVERITIES = ["High", "Medium", "Low", "Informational"]
CHROMIUM = "/usr/bin/chromium"


def build() -> tuple[Incident, Entity]:
    """The incident to draw and its busiest entity (made on the first run only)."""
    workspace, made = Workspace.objects.get_or_create(name=WORKSPACE)
    user, _ = get_user_model().objects.get_or_create(username="bench-graph")
    Membership.objects.get_or_create(
        workspace=workspace, user=user, defaults={"role": Role.RESPONDER}
    )
    if not made and workspace.incidents.exists():
        incident = workspace.incidents.order_by("number").first()
        return incident, workspace.entities.get(identifier="entity-0")
    actor = Actor.system("Benchmark", via=Via.INGESTION)
    now = timezone.now()

    def alerts(count: int, name: str) -> list[Alert]:
        return Alert.objects.bulk_create(
            Alert(
                workspace=workspace,
                display_name=f"{name} {n}",
                severity=SEVERITIES[n % len(SEVERITIES)],
                product_name="Microsoft Defender for Endpoint",
                time_generated=now - timezone.timedelta(minutes=n),
            )
            for n in range(count)
        )

    inside = alerts(ALERTS, "Suspicious activity")
    incident = membership.create_incident(workspace, inside, actor=actor, title="Graph benchmark")
    entities = Entity.objects.bulk_create(
        Entity(workspace=workspace, kind=KINDS[n % len(KINDS)], identifier=f"entity-{n}")
        for n in range(ENTITIES)
    )
    outside = alerts(OUTSIDE, "Elsewhere")
    for alert in outside:
        membership.create_incident(workspace, [alert], actor=actor)
    links = {(inside[n % ALERTS].pk, e.pk) for n, e in enumerate(entities)}
    links |= {(a.pk, entities[0].pk) for a in inside + outside}
    through = Alert.entities.through
    through.objects.bulk_create(through(alert_id=a, entity_id=e) for a, e in links)
    return incident, entities[0]


def measure(client: Client, url: str, runs: int) -> tuple[int, float, float]:
    for _ in range(3):
        client.get(url)
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        assert client.get(url).status_code == 200, url
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - start) * 1000)
    return len(queries), statistics.median(times), statistics.quantiles(times, n=10)[-1]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


def browser(incident: Incident, cookie: str, runs: int) -> list[dict]:
    from playwright.sync_api import sync_playwright

    server = make_server("127.0.0.1", 0, get_wsgi_application(), handler_class=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    found = []
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        context = chromium.new_context(viewport={"width": 1400, "height": 900})
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base}])
        context.add_init_script(
            "window.__longest = 0; new PerformanceObserver((list) => list.getEntries().forEach("
            "(e) => { window.__longest = Math.max(window.__longest, e.duration); }))"
            ".observe({ type: 'longtask', buffered: true });"
        )
        page = context.new_page()
        for n in range(runs + 1):
            page.goto(f"{base}/incidents/{incident.number}/graph/")
            page.wait_for_selector("#graph[data-ready]", state="attached", timeout=60_000)
            timing = page.evaluate(
                """() => ({
                    ready: performance.getEntriesByName("graph-ready")[0].startTime,
                    data: performance.getEntriesByName("graph-data")[0].startTime,
                    layout: performance.getEntriesByName("graph-layout")[0]?.duration ?? 0,
                    longest: window.__longest,
                    nodes: document.getElementById("graph-canvas").cytoscape.nodes().length,
                })"""
            )
            if n:  # the first load warms the caches
                found.append(timing)
        chromium.close()
    server.shutdown()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--browser-runs", type=int, default=7)
    options = parser.parse_args()
    incident, busiest = build()
    user = get_user_model().objects.get(username="bench-graph")
    # A host that DJANGO_ALLOWED_HOSTS allows by default ("testserver" is not one).
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    session = client.session
    session[SESSION_KEY] = incident.workspace_id
    session.save()
    n = incident.number
    print(
        f"{connection.vendor} · incident #{n}: {incident.alert_count} alerts, {ENTITIES} entities; "
        f"entity-0 also in {OUTSIDE} other alerts"
    )
    print(f"{'request':<28} {'queries':>7} {'median ms':>10} {'p90 ms':>8}")
    for label, url in [
        ("graph.json", f"/incidents/{n}/graph.json"),
        ("related-alerts.json", f"/incidents/{n}/graph/entities/{busiest.pk}/related-alerts.json"),
        (
            "related-incidents.json",
            f"/incidents/{n}/graph/entities/{busiest.pk}/related-incidents.json",
        ),
    ]:
        queries, median, p90 = measure(client, url, options.runs)
        print(f"{label:<28} {queries:>7} {median:>10.1f} {p90:>8.1f}")
    timings = browser(
        incident, client.cookies[settings.SESSION_COOKIE_NAME].value, options.browser_runs
    )
    print(
        f"\nChromium, {len(timings)} loads of /incidents/{n}/graph/ ({timings[0]['nodes']} nodes):"
    )
    for label, key in [
        ("graph drawn and listed after", "ready"),
        ("graph.json arrived after", "data"),
        ("layout took", "layout"),
        ("longest task (tab busy)", "longest"),
    ]:
        values = [t[key] for t in timings]
        print(
            f"  {label:<30} median {statistics.median(values):6.0f} ms, worst {max(values):6.0f} ms"
        )


if __name__ == "__main__":
    main()
