"""Triage under load: analysts browse, responders change membership, ingestion sends alerts.

`scripts/loadtest/run.sh` runs it against gunicorn on a seeded PostgreSQL (see README,
"Benchmarks"). On its own, against a server whose demo users share one password:

    LOAD_PASSWORD=... LOAD_TOKEN=trg_... LOAD_ALERTS_FILE=alerts.jsonl LOAD_DURATION=60 \\
      .venv/bin/locust -f scripts/loadtest/locustfile.py --headless -H http://127.0.0.1:8000 \\
      -u 24 -r 24 -t 180s

Three kinds of users, each signed in with a session of its own:

- `Analyst` (`reader`): the incidents and alerts queues with filters, sorts and a next
  page, an incident's page with its tabs, similar incidents, details panel, expanded queue
  row and entity panel, the "Incident name or ID" typeahead, an alert's page;
- `Responder` (`analyst`, LOAD_RESPONDERS of them): "Link alerts to another incident" from an
  incident's Alerts tab and from the alerts queue, "Add alert to incident" from an entity's
  timeline, "Remove alert" from the Overview, "Merge incidents" from the queue, and Undo,
  each through its flyout as a browser does it (the htmx fragment, its CSRF and one-time
  form token, then the POST), now and then submitting a form twice;
- `Ingestion` (an ingestion token, LOAD_INGESTERS of them): batches of LOAD_BATCH
  SecurityAlert rows from LOAD_ALERTS_FILE through `POST /api/workspaces/W/alerts`, now and
  then the same batch again.

Every user signs in first; the figures start from zero once all have (two dozen password
hashes at once would swamp the first seconds), and with LOAD_DURATION set the load stops
that many seconds later.

A refusal the rules demand (an incident full at 150 alerts, an alert's last incident, a
provider-managed alert or incident, a merge too large or already done, an alert that a
concurrent change already moved, an undo that a later change got in the way of) is counted
as refused, by kind, and is not a failure; any other answer (a 5xx, an unexpected status or
page) is a failure. At the end the refusals are printed after a compact table per
endpoint.
"""

import html
import itertools
import json
import os
import random
import re
import time
from collections import Counter
from urllib.parse import urlencode

import gevent
from gevent.event import Event
from locust import FastHttpUser, between, events, task

PASSWORD = os.environ.get("LOAD_PASSWORD", "triage-demo")
WORKSPACE = os.environ.get("LOAD_WORKSPACE", "demo")
TOKEN = os.environ.get("LOAD_TOKEN", "")
ALERTS_FILE = os.environ.get("LOAD_ALERTS_FILE", "samples/security_alerts.jsonl")
BATCH = int(os.environ.get("LOAD_BATCH", "100"))
API_VERSION = "2024-03-01"
# Seconds of load measured once everyone has signed in; 0: until locust's --run-time.
DURATION = float(os.environ.get("LOAD_DURATION", "0"))

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
INCIDENT_LINK = re.compile(r'href="/incidents/(\d+)/"')
ALERT_CHECKBOX = re.compile(rf'name="alert" value="({UUID})"')
ALERT_LINK = re.compile(rf'href="/alerts/({UUID})/"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
FORM_TOKEN = re.compile(rf'name="form_token" value="({UUID})"')
# What a re-rendered flyout says when it refused: its error box and its fields' errors.
FORM_ERRORS = re.compile(r'class="(?:error|field-error)" role="alert"[^>]*>(.*?)</', re.S)
# The add dialog's list of the incidents the alert is already in.
OTHER_INCIDENTS = re.compile(r'class="plain other-incidents">\s*<li><a href="/incidents/(\d+)/"')
NEXT_PAGE = re.compile(r'href="\?([^"]*cursor=[^"]*)" rel="next"')

# The refusals the rules demand, in the web app's and the API's words (incidents/errors.py,
# membership/undo.py), by kind; the first that matches names it.
REFUSALS = [
    ("undo refused", r"cannot be undone: .*has since"),
    ("undo refused", r"cannot be undone: .*would pass the limit"),
    ("undo refused", r"was already undone by"),
    ("incident full", r"would pass the limit of \d+ alerts per incident"),
    ("incident full", r"already contains \d+ alerts; an incident can contain at most"),
    ("merge too large", r"would hold \d+ alerts, more than the limit"),
    ("last incident", r"belongs to no other incident than"),
    ("provider-managed", r"correlates its own alerts"),
    ("already in incident", r"is already in incident #\d+"),
    ("moved meanwhile", r"is not in incident #\d+ \(any more\)"),
    ("already merged", r"was already merged into #\d+"),
    ("merge contention", r"kept changing while merging them"),
]
REFUSAL_PATTERNS = [(kind, re.compile(pattern)) for kind, pattern in REFUSALS]

# Counts of this process's refusals, (action, kind) → n, and of rows ingested.
REFUSED: Counter = Counter()
INGESTED: Counter = Counter()
# Set when every user has signed in: the load (and its measurement) starts then.
EVERYONE_IN = Event()
SIGNED_IN: list[float] = []
STARTED: list[float] = []

QUEUE_FILTERS = [
    "severity=High",
    "q=suspicious",
    "q=sign-in",
    "status=Closed",
    "status=&range=7d",
    "owner=none",
    "provider=Sentinel",
    "product=Endpoint",
    "tactic=CredentialAccess",
    "label=Merged&status=",
    "alerts=none&status=",
]
QUEUE_SORTS = ["-alerts", "title", "-severity", "status", "owner", "-number", "created"]
ALERT_FILTERS = [
    "severity=High",
    "q=PowerShell",
    "q=mimikatz",
    "provider=MDATP",
    "product=Office",
    "tactic=LateralMovement",
    "range=24h",
]
ALERT_SORTS = ["name", "-severity", "product", "status", "time"]
TYPEAHEAD_WORDS = ["suspicious", "sign-in", "ransomware", "phish", "lsass", "powershell", "mfa"]


def refusal_kind(message: str) -> str | None:
    for kind, pattern in REFUSAL_PATTERNS:
        if pattern.search(message):
            return kind
    return None


def form_errors(page: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", m)).strip() for m in FORM_ERRORS.findall(page)]


def trigger(response) -> dict:
    """The htmx events of a response (`HX-Trigger`), {} when none."""
    value = response.headers.get("HX-Trigger") or response.headers.get("hx-trigger")
    return json.loads(value) if value else {}


def queue_name(url: str) -> str:
    """A queue's stats name: its path with the sort, or with the names of its filters."""
    path, _, query = url.partition("?")
    pairs = [pair.partition("=") for pair in query.split("&") if pair]
    sort = [value for name, _, value in pairs if name == "sort"]
    if sort:
        return f"{path}?sort={sort[0]}"
    return f"{path}?{'&'.join(name for name, _, _ in pairs)}" if pairs else path


def first(pattern: re.Pattern, text: str) -> str:
    found = pattern.search(text)
    return found.group(1) if found else ""


class Browser(FastHttpUser):
    """A signed-in user of the web app: its session, CSRF token and sense of the data."""

    abstract = True
    username = ""
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.csrf = ""
        self.newest = 1
        self.sign_in()
        everyone_signed_in(self.environment)
        self.learn_newest()

    def sign_in(self) -> None:
        with self.client.get("/accounts/login/", name="/accounts/login/", catch_response=True) as r:
            self.csrf = first(CSRF, r.text)
            if not self.csrf:
                r.failure("no CSRF token on the sign-in page")
                return
        data = {"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": self.csrf}
        with self.post_form("/accounts/login/", data, "/accounts/login/ (sign in)") as r:
            if r.status_code != 302:
                r.failure(f"sign-in as {self.username} answered {r.status_code}")

    def learn_newest(self) -> None:
        """The highest incident number (new ones keep coming), from the queue by number."""
        url = "/incidents/?status=&sort=-number"
        with self.page(url, queue_name(url)) as r:
            numbers = [int(n) for n in INCIDENT_LINK.findall(r.text)]
            self.newest = max(numbers, default=self.newest)

    def some_incident(self) -> int:
        return random.randint(1, self.newest)

    def page(self, url: str, name: str, *, htmx: bool = False):
        """GET a page (or the fragment htmx asks for); anything but 200 is a failure."""
        headers = {"HX-Request": "true"} if htmx else {}
        return self.client.get(url, name=name, headers=headers, catch_response=True)

    def post_form(self, url: str, data: dict | list, name: str, *, htmx: bool = False):
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if htmx:
            headers["HX-Request"] = "true"
        body = urlencode(data, doseq=True)
        return self.client.post(
            url, data=body, name=name, headers=headers, catch_response=True, allow_redirects=False
        )

    def refused(self, response, action: str, message: str) -> None:
        """A refusal: fine when the rules demand it, else a failure naming what it said."""
        kind = refusal_kind(message)
        if kind is None:
            response.failure(f"{action}: unexpected answer: {message[:300]!r}")
            return
        response.success()
        REFUSED[(action, kind)] += 1


class Analyst(Browser):
    """Reads: queues, incident pages and their tabs, panels, the typeahead."""

    username = "reader"
    weight = 1

    @task(4)
    def incidents_queue(self) -> None:
        roll = random.random()
        if roll < 0.3:
            url = "/incidents/"
        elif roll < 0.65:
            url = f"/incidents/?{random.choice(QUEUE_FILTERS)}"
        else:
            url = f"/incidents/?sort={random.choice(QUEUE_SORTS)}"
        with self.page(url, queue_name(url)) as r:
            query = first(NEXT_PAGE, r.text)
            numbers = INCIDENT_LINK.findall(r.text)
        if query and random.random() < 0.3:
            with self.page(f"/incidents/?{html.unescape(query)}", "/incidents/ (next page)"):
                pass
        if numbers:
            number = random.choice(numbers)
            # Selecting a row opens its details panel; its ▸ expands its alerts.
            with self.page(f"/incidents/{number}/panel/", "/incidents/[n]/panel/", htmx=True):
                pass
            if random.random() < 0.5:
                url = f"/incidents/{number}/alerts/rows/"
                with self.page(url, "/incidents/[n]/alerts/rows/", htmx=True):
                    pass

    @task(2)
    def alerts_queue(self) -> None:
        roll = random.random()
        if roll < 0.4:
            url = "/alerts/"
        elif roll < 0.7:
            url = f"/alerts/?{random.choice(ALERT_FILTERS)}"
        else:
            url = f"/alerts/?sort={random.choice(ALERT_SORTS)}"
        with self.page(url, queue_name(url)) as r:
            alerts = ALERT_LINK.findall(r.text)
        if alerts and random.random() < 0.3:
            with self.page(f"/alerts/{random.choice(alerts)}/", "/alerts/[id]/"):
                pass

    @task(5)
    def incident_page(self) -> None:
        number = self.some_incident()
        base = f"/incidents/{number}/"
        with self.page(base, "/incidents/[n]/"):
            pass
        # The Overview loads its similar incidents after the page.
        with self.page(f"{base}similar/", "/incidents/[n]/similar/", htmx=True):
            pass
        for tab in random.sample(["alerts", "entities", "activity"], k=random.randint(1, 3)):
            with self.page(f"{base}{tab}/", f"/incidents/[n]/{tab}/", htmx=True) as r:
                page = r.text
            if tab == "alerts" and random.random() < 0.3:
                alerts = ALERT_LINK.findall(page)
                if alerts:
                    with self.page(f"/alerts/{random.choice(alerts)}/", "/alerts/[id]/"):
                        pass
            if tab == "entities":
                entities = re.findall(rf'href="{base}entities/(\d+)/"', page)
                if entities:
                    url = f"{base}entities/{random.choice(entities)}/"
                    with self.page(url, "/incidents/[n]/entities/[e]/", htmx=True):
                        pass

    @task(2)
    def typeahead(self) -> None:
        words = random.choice(TYPEAHEAD_WORDS)
        text = str(self.some_incident()) if random.random() < 0.5 else words
        # Typed a character at a time, the last few letters each ask again.
        for end in range(max(1, len(text) - 2), len(text) + 1):
            url = f"/incidents/search/?{urlencode({'incident': text[:end]})}"
            with self.page(url, "/incidents/search/", htmx=True):
                pass


class Responder(Browser):
    """Changes which alerts belong to which incident, through the flyouts."""

    username = "analyst"
    fixed_count = int(os.environ.get("LOAD_RESPONDERS", "6"))

    def on_start(self) -> None:
        super().on_start()
        self.undo_urls: list[str] = []
        self.largest: list[str] = []
        self.learn_largest()

    def learn_largest(self) -> None:
        """The biggest open incidents: targets that fill up, merges that would not fit."""
        url = "/incidents/?sort=-alerts"
        with self.page(url, queue_name(url)) as r:
            self.largest = list(dict.fromkeys(INCIDENT_LINK.findall(r.text)))[:25]

    def some_source(self) -> str:
        """Half the time an incident of the queue's first page, where every responder looks
        (and where changes collide); else any incident."""
        if random.random() < 0.5:
            with self.page("/incidents/", "/incidents/") as r:
                top = INCIDENT_LINK.findall(r.text)
            if top:
                return random.choice(top)
        return str(self.some_incident())

    def target(self, avoid: str) -> str:
        pool = self.largest if self.largest and random.random() < 0.3 else None
        for _ in range(5):
            number = random.choice(pool) if pool else str(self.some_incident())
            if number != avoid:
                return number
        return ""

    def done(self, response, event: str) -> None:
        """A 204 with the event the lists refresh on; keeps its Undo address."""
        events = trigger(response)
        if response.status_code != 204 or event not in events:
            response.failure(f"expected 204 and {event}, got {response.status_code} {events}")
            return
        detail = events[event]
        if isinstance(detail, dict) and detail.get("undo"):
            self.undo_urls.append(detail["undo"])
            del self.undo_urls[:-10]

    def flyout(self, url: str, name: str) -> tuple[str, str]:
        """The flyout's form: its page, and its one-time form token ("" if it has none)."""
        with self.page(url, name, htmx=True) as r:
            page = r.text
        self.csrf = first(CSRF, page) or self.csrf
        return page, first(FORM_TOKEN, page)

    def submit(self, url: str, data: list, name: str, action: str, event: str) -> bool:
        """POST a flyout; True when it changed something. Refusals come as the flyout
        again with its error (link, merge) or as an `actionRefused` event (add, remove)."""
        with self.post_form(url, data, name, htmx=True) as r:
            events = trigger(r)
            if r.status_code == 204:
                self.done(r, event)
                return event in events
            if r.status_code == 200 and "actionRefused" in events:
                self.refused(r, action, events["actionRefused"].get("message", ""))
            elif r.status_code == 200 and form_errors(r.text):
                self.refused(r, action, " | ".join(form_errors(r.text)))
            else:
                r.failure(f"{action}: {r.status_code} {r.text[:200]!r}")
        return False

    def again(self, url: str, data: list, name: str, action: str) -> None:
        """The same form sent again (a double click, a retry): answered, not applied."""
        with self.post_form(url, data, f"{name} (again)", htmx=True) as r:
            events = trigger(r)
            messages = [d.get("message", "") for d in events.values() if isinstance(d, dict)]
            if r.status_code == 204 and any(m.startswith("Already done: ") for m in messages):
                return
            r.failure(f"{action} sent twice: {r.status_code} {events}")

    @task(4)
    def link_from_incident(self) -> None:
        """Alerts tab: tick alerts, "Link alerts to another incident", pick a target, Save."""
        number = self.some_source()
        with self.page(f"/incidents/{number}/alerts/", "/incidents/[n]/alerts/", htmx=True) as r:
            alerts = ALERT_CHECKBOX.findall(r.text)
        if alerts:
            chosen = random.sample(alerts, k=min(len(alerts), random.choice([1, 1, 2, 3, 5])))
            self.link(chosen, source=number)

    @task(1)
    def link_from_alerts_queue(self) -> None:
        """Alerts queue: the alerts leave every incident they are in."""
        with self.page("/alerts/", "/alerts/") as r:
            alerts = ALERT_CHECKBOX.findall(r.text)
        if alerts:
            self.link(random.sample(alerts, k=min(len(alerts), random.choice([1, 2]))), source="")

    def link(self, alerts: list[str], *, source: str) -> None:
        selection = [("alert", a) for a in alerts] + ([("source", source)] if source else [])
        _, token = self.flyout(f"/alerts/link/?{urlencode(selection)}", "/alerts/link/ (flyout)")
        if not token:
            return
        choice = [("target", "new")]
        if random.random() < 0.75:
            target = self.target(avoid=source)
            if not target:
                return
            choice = [("target", "existing"), ("incident", target)]
            # The panel previews the move whenever the target changes.
            url = f"/alerts/link/?{urlencode(selection + choice)}"
            with self.page(url, "/alerts/link/ (preview)", htmx=True):
                pass
        data = [
            ("csrfmiddlewaretoken", self.csrf),
            ("form_token", token),
            *selection,
            *choice,
            ("comment", "Load test: same campaign."),
            ("emptied", random.choice(["close", "keep"])),
        ]
        linked = self.submit("/alerts/link/", data, "/alerts/link/ (save)", "link", "alertsLinked")
        if linked and random.random() < 0.1:
            self.again("/alerts/link/", data, "/alerts/link/ (save)", "link")

    @task(3)
    def add_from_entity_timeline(self) -> None:
        """Entities tab → an entity → its Timeline → + on an alert outside → OK."""
        number = self.some_source()
        base = f"/incidents/{number}/"
        with self.page(f"{base}entities/", "/incidents/[n]/entities/", htmx=True) as r:
            entities = re.findall(rf'href="{base}entities/(\d+)/"', r.text)
        if not entities:
            return
        url = f"{base}entities/{random.choice(entities)}/"
        with self.page(url, "/incidents/[n]/entities/[e]/", htmx=True) as r:
            outside = re.findall(rf'href="{base}alerts/({UUID})/add/', r.text)
        if not outside:
            return
        alert = random.choice(outside)
        page, token = self.flyout(f"{base}alerts/{alert}/add/", "/incidents/[n]/alerts/[id]/add/")
        if not token:
            return
        # "Keep other incident" / "Close other incident" when it is another's only alert.
        sole = 'value="close"' in page
        data = [
            ("csrfmiddlewaretoken", self.csrf),
            ("form_token", token),
            ("other_incident", random.choice(["keep", "close"]) if sole else "keep"),
        ]
        name = "/incidents/[n]/alerts/[id]/add/ (OK)"
        added = self.submit(f"{base}alerts/{alert}/add/", data, name, "add", "incidentChanged")
        others = OTHER_INCIDENTS.findall(page)
        if added and others and random.random() < 0.5:
            # Now in two incidents: take it out of the one it came from.
            self.remove(others[0], alert)

    @task(2)
    def remove_from_overview(self) -> None:
        """Overview → incident timeline → "…" → "Remove alert"."""
        number = self.some_source()
        with self.page(f"/incidents/{number}/", "/incidents/[n]/", htmx=True) as r:
            page = r.text
        removable = re.findall(rf'hx-get="/incidents/{number}/alerts/({UUID})/remove/', page)
        every = re.findall(rf'href="/incidents/{number}/alerts/({UUID})/remove/"', page)
        # Mostly what the menu offers; now and then what a stale page still showed.
        pool = removable if removable and random.random() < 0.8 else every
        if pool:
            self.remove(number, random.choice(pool))

    def remove(self, number: str, alert: str) -> None:
        url = f"/incidents/{number}/alerts/{alert}/remove/"
        _, token = self.flyout(url, "/incidents/[n]/alerts/[id]/remove/")
        if token:
            data = [
                ("csrfmiddlewaretoken", self.csrf),
                ("form_token", token),
                ("reason", "Load test: not part of this attack."),
            ]
            name = "/incidents/[n]/alerts/[id]/remove/ (Remove)"
            self.submit(url, data, name, "remove", "incidentChanged")

    @task(1)
    def merge(self) -> None:
        """Queue: tick two or three incidents, "Merge incidents", give a reason, Save."""
        if random.random() < 0.3:
            self.learn_largest()
            pool = self.largest
        else:
            url = f"/incidents/?sort={random.choice(QUEUE_SORTS)}"
            with self.page(url, queue_name(url)) as r:
                pool = list(dict.fromkeys(INCIDENT_LINK.findall(r.text)))
        if len(pool) < 2:
            return
        start = random.randrange(len(pool) - 1)
        chosen = pool[start : start + random.choice([2, 2, 3])]
        selection = [("incident", n) for n in chosen]
        url = f"/incidents/merge/?{urlencode(selection)}"
        _, token = self.flyout(url, "/incidents/merge/ (flyout)")
        if not token:
            return
        data = [
            ("csrfmiddlewaretoken", self.csrf),
            ("form_token", token),
            *selection,
            ("into", random.choice(chosen)),
            ("reason", "Load test: one attack."),
        ]
        name = "/incidents/merge/ (save)"
        self.submit("/incidents/merge/", data, name, "merge", "incidentsMerged")

    @task(1)
    def undo(self) -> None:
        """ "Undo" on the notification of one of this user's recent changes."""
        if not self.undo_urls or not self.csrf:
            return
        url = self.undo_urls.pop(random.randrange(len(self.undo_urls)))
        data = [("csrfmiddlewaretoken", self.csrf)]
        self.submit(url, data, "/changes/[id]/undo/", "undo", "changeUndone")


class Ingestion(FastHttpUser):
    """A SIEM connector: batches of SecurityAlert rows through the REST API."""

    fixed_count = int(os.environ.get("LOAD_INGESTERS", "1"))
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.url = f"/api/workspaces/{WORKSPACE}/alerts?api-version={API_VERSION}"
        self.headers = {
            "Authorization": f"Bearer {TOKEN}",
            "Content-Type": "application/x-ndjson",
        }
        self.last = b""
        EVERYONE_IN.wait()

    @task
    def send_batch(self) -> None:
        again = bool(self.last) and random.random() < 0.1
        body = self.last if again else next_batch()
        name = f"/api/workspaces/[w]/alerts ({'again' if again else f'{BATCH} rows'})"
        with self.client.post(
            self.url, data=body, headers=self.headers, name=name, catch_response=True
        ) as r:
            if r.status_code != 200:
                r.failure(f"ingestion answered {r.status_code}: {r.text[:300]!r}")
                return
            rows = r.json()["value"]
            homeless = [row["systemAlertId"] for row in rows if not row["incidents"]]
            if not rows or homeless:
                r.failure(f"{len(rows)} results; alerts in no incident: {homeless[:3]}")
                return
            if again and any(row["status"] != "unchanged" for row in rows):
                r.failure("the same batch sent again changed something")
                return
            INGESTED.update(row["status"] for row in rows)
        self.last = body


def everyone_signed_in(environment) -> None:
    """Wait for every user to have signed in, then measure from zero: two dozen password
    hashes at once would otherwise swamp the first seconds of every endpoint's figures."""
    SIGNED_IN.append(time.monotonic())
    runner = environment.runner
    if len(SIGNED_IN) == runner.target_user_count - Ingestion.fixed_count:
        # A failure so far (a sign-in refused) stays in the figures, and fails the run.
        if not environment.stats.total.num_failures:
            environment.stats.reset_all()
        if DURATION:
            gevent.spawn_later(DURATION, runner.quit)
        EVERYONE_IN.set()
    EVERYONE_IN.wait()


_lines = None


def next_batch() -> bytes:
    """The next BATCH rows of the file, shared by every ingestion user; round again at its end."""
    global _lines
    if _lines is None:
        with open(ALERTS_FILE, "rb") as rows:
            _lines = itertools.cycle(rows.read().splitlines())
    return b"\n".join(itertools.islice(_lines, BATCH)) + b"\n"


@events.test_start.add_listener
def started(environment, **kwargs) -> None:
    STARTED.append(time.monotonic())


@events.quitting.add_listener
def report(environment, **kwargs) -> None:
    """The compact table: per endpoint, requests, failures, req/s, p50 and p99; then the
    refusals by action and kind."""
    stats = environment.stats
    rows = sorted(
        (e for e in stats.entries.values() if e.num_requests),
        key=lambda e: (e.name, e.method),
    )
    lines = [
        "",
        f"{'Endpoint':<52} {'Reqs':>6} {'Fails':>5} {'req/s':>6} {'p50 ms':>7} {'p99 ms':>7}",
    ]
    for entry in [*rows, stats.total]:
        label = entry.name if entry is stats.total else f"{entry.method} {entry.name}"
        lines.append(
            f"{label[:52]:<52} {entry.num_requests:>6} {entry.num_failures:>5} "
            f"{entry.total_rps:>6.1f} {entry.get_response_time_percentile(0.5):>7.0f} "
            f"{entry.get_response_time_percentile(0.99):>7.0f}"
        )
    lines.append("")
    lines.append("Refused as the rules demand (not failures):")
    for (action, kind), count in sorted(REFUSED.items()):
        lines.append(f"  {action:<8} {kind:<22} {count:>6}")
    if not REFUSED:
        lines.append("  none")
    lines.append(f"Ingested rows by status: {dict(sorted(INGESTED.items())) or 'none'}")
    if SIGNED_IN:
        took = SIGNED_IN[-1] - STARTED[0] if STARTED else 0
        lines.append(f"{len(SIGNED_IN)} users signed in within {took:.0f} s, before measuring.")
    print("\n".join(lines), flush=True)
