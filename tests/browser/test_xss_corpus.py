"""XSS corpus (#13): payloads in every field an analyst or a data source can write — incident
titles, descriptions, labels and comments, alert names and fields (links among them), entity
names and values, rule names, the workspace's name — on every page, the flyouts, the
typeahead, the graph and the admin (changelists, change pages, the alert actions' page).

A payload that ran would set `window.__xss`, leave an event-handler attribute or a
`javascript:` address in the DOM, or break the strict CSP (which `signed_in_as` turns into a
failure). Each page is checked on its own so a failure names it.
"""

import contextlib
import re
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from incidents import actions, membership
from incidents.activity import Actor
from incidents.models import Alert, CorrelationRule, Incident, Role
from tests.browser.conftest import signed_in_as
from tests.factories import (
    INGESTION,
    EntityFactory,
    IncidentFactory,
    MembershipFactory,
    UserFactory,
    alert_in,
)

pytestmark = pytest.mark.browser

RUN = "window.__xss=1"
PAYLOADS = [
    f"<script>{RUN}</script>",
    f'<img src=x onerror="{RUN}">',
    f'"><svg onload="{RUN}">',
    f"'><img src=x onerror={RUN}>",
    f"javascript:{RUN}",
    "{{7*7}} {% now 'Y' %}",
    f'" autofocus onfocus="{RUN}" x="',
    f"</textarea></title><script>{RUN}</script>",
    f'<a href="javascript:{RUN}">click</a>',
    '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
    f"${{{RUN}}} `${{{RUN}}}`",
    f'<div hx-get="/incidents/" hx-trigger="load" hx-on:htmx:load="{RUN}">htmx</div>',
]

# Whatever ran, or was left ready to run, in the page.
INJECTED = """() => {
  const ADDRESS = /^(href|src|action|formaction|xlink:href|data|poster|hx-(get|post))$/i;
  const found = [];
  for (const el of document.querySelectorAll("*")) {
    for (const a of el.attributes) {
      if (/^on/i.test(a.name) || /^hx-on/i.test(a.name)) found.push(`${el.tagName} ${a.name}`);
      if (ADDRESS.test(a.name) && /^\\s*javascript:/i.test(a.value)) {
        found.push(`${el.tagName} ${a.name}=${a.value}`);
      }
    }
    const data = el.tagName === "SCRIPT" && el.type === "application/json";
    if (el.tagName === "IFRAME" || (el.tagName === "SCRIPT" && !el.src && !data)) {
      found.push(`${el.tagName} ${el.outerHTML.slice(0, 80)}`);
    }
  }
  if (window.__xss !== undefined) found.push("window.__xss was set");
  return found;
}"""


@pytest.fixture
def contributor(workspace):
    """Who may open every page of the app, the rules' edit pages included."""
    user = UserFactory(username="contributor")
    MembershipFactory(workspace=workspace, user=user, role=Role.CONTRIBUTOR)
    return user


@pytest.fixture
def poisoned(workspace, contributor):
    """Every payload in every field, in one incident (with its alerts, entities, comments)
    and in incidents of their own that share its alerts."""
    workspace.display_name = PAYLOADS[2]
    workspace.save()
    actor = Actor.for_user(contributor)
    main = IncidentFactory(
        workspace=workspace, title=PAYLOADS[0], description=PAYLOADS[1], labels=PAYLOADS
    )
    for n, payload in enumerate(PAYLOADS):
        alert = alert_in(
            main,
            display_name=payload,
            description=payload,
            product_name=payload,
            extended_properties={payload: payload, "Link": f"javascript:{RUN}"},
            source_fields={
                "AlertLink": f'https://example.com/?q="><svg onload="{RUN}">',
                "Script": f"javascript:{RUN}",
                "Name": payload,
            },
        )
        alert.entities.add(
            EntityFactory(
                workspace=workspace,
                identifier=f"{payload}-{n}",
                display_name=payload,
                properties={payload: payload, "Url": f"javascript:{RUN}"},
            )
        )
        own = IncidentFactory(workspace=workspace, title=payload, labels=[payload])
        membership.add_alerts(own, [alert], actor=INGESTION)
        actions.add_comment(main, payload, actor=actor)
    closed = IncidentFactory(workspace=workspace, title=PAYLOADS[3])
    alert_in(closed, display_name=PAYLOADS[4])
    actions.close_incident(
        closed,
        classification="FalsePositive",
        reason="InaccurateData",
        comment=PAYLOADS[5],
        actor=actor,
    )
    for order, payload in enumerate(PAYLOADS):
        CorrelationRule.objects.create(
            workspace=workspace,
            name=payload,
            description=payload,
            name_contains=payload,
            order=order + 10,
        )
    return main


def checked(page: Page, where: str, errors: list[str]) -> None:
    """Let the page settle (htmx loads), then fail if anything ran or was injected."""
    # An injected hx-trigger="load" would never settle: then look at what is there.
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_load_state("networkidle", timeout=5_000)
    found = page.evaluate(INJECTED)
    assert found == [], f"{where}: injected {found}"
    assert errors == [], f"{where}: the browser reported {errors}"


def visit(page: Page, url: str, errors: list[str]) -> None:
    page.goto(url)
    checked(page, url, errors)


@pytest.fixture
def watched(page: Page):
    """The console errors and page errors, per page (the conftest fails the test on them too,
    but without saying where)."""
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(f"{page.url}: {m.text}"))
    page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
    return errors


@pytest.fixture
def as_contributor(page: Page, live_server, contributor):
    yield from signed_in_as(page, live_server, contributor)


def test_no_payload_runs_on_any_page_of_the_app(
    as_contributor: Page, live_server, poisoned, watched
):
    page = as_contributor
    base = live_server.url
    main = poisoned
    alert = Alert.objects.filter(relations__incident=main).order_by("pk").first()
    entity = alert.entities.get()
    rule = CorrelationRule.objects.filter(workspace=main.workspace).order_by("order").last()
    other = Incident.objects.exclude(pk=main.pk).order_by("number").first()
    number = main.number
    alert_ids = "&".join(
        f"alert={a.system_alert_id}" for a in Alert.objects.filter(relations__incident=main)
    )
    pages = [
        "/incidents/",
        f"/incidents/?q={quote(PAYLOADS[1])}",
        "/alerts/",
        f"/alerts/?q={quote(PAYLOADS[2])}",
        f"/incidents/{number}/",
        f"/incidents/{number}/alerts/",
        f"/incidents/{number}/entities/",
        f"/incidents/{number}/entities/{entity.pk}/",
        f"/incidents/{number}/activity/",
        f"/incidents/{number}/panel/",
        f"/incidents/{number}/similar/",
        f"/incidents/{number}/graph.json",
        f"/incidents/{other.number}/",
        f"/alerts/{alert.system_alert_id}/",
        f"/incidents/search/?q={quote(PAYLOADS[0])}",
        "/incidents/search/?q=",
        f"/alerts/link/?{alert_ids}&source={number}",
        f"/incidents/{other.number}/alerts/{alert.system_alert_id}/add/",
        f"/incidents/{number}/alerts/{alert.system_alert_id}/remove/",
        f"/incidents/{number}/close/",
        f"/incidents/{number}/comment/",
        f"/incidents/{number}/owner/",
        f"/incidents/merge/?incident={number}&incident={other.number}&into={quote(PAYLOADS[6])}",
        "/rules/",
        f"/rules/{rule.pk}/",
        f"/rules/{rule.pk}/edit/",
        f"/rules/{rule.pk}/test/",
        "/rules/test/",
    ]
    for path in pages:
        visit(page, base + path, watched)
    # The payloads are shown as text, not run and not dropped.
    page.goto(f"{base}/incidents/")
    expect(page.get_by_role("link", name=PAYLOADS[5], exact=True).first).to_be_visible()

    # The queue's expanded row (an htmx fragment).
    page.get_by_role("button", name=f"Show alerts for incident #{number}", exact=True).click()
    expect(page.locator(f"#expansion-{number}")).to_be_visible()
    checked(page, "the queue with a row expanded", watched)

    # The graph, drawn by graph.js from its JSON, and an entity's related alerts.
    page.goto(f"{base}/incidents/{number}/graph/")
    expect(page.locator("#graph[data-ready]")).to_have_count(1)
    checked(page, "the investigation graph", watched)

    # The flyout from the alert page, and the typeahead inside it.
    page.goto(f"{base}/alerts/{alert.system_alert_id}/")
    page.get_by_role("button", name="Link alerts to another incident").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Incident name or ID").fill("<")
    expect(dialog.get_by_role("option").first).to_be_visible()
    checked(page, "the link flyout and its typeahead", watched)

    # The entity panel opened from the Entities tab (htmx), with its timeline.
    page.goto(f"{base}/incidents/{number}/entities/")
    page.locator(f"#entity-{entity.pk}").click()
    expect(page.locator("#entity-panel")).to_be_visible()
    checked(page, "the entity panel", watched)


@pytest.fixture
def superuser(workspace):
    return get_user_model().objects.create_superuser("admin", "admin@example.com", "x")


ADMIN_MODELS = [
    "incidents/incident",
    "incidents/alert",
    "incidents/entity",
    "incidents/workspace",
    "incidents/relation",
    "incidents/activityentry",
    "incidents/membership",
]


@pytest.fixture
def as_superuser(page: Page, live_server, superuser):
    yield from signed_in_as(page, live_server, superuser)


def test_no_payload_runs_in_the_admin(as_superuser: Page, live_server, poisoned, watched):
    page = as_superuser
    base = live_server.url
    main = poisoned
    alert = Alert.objects.filter(relations__incident=main).order_by("pk").first()
    entity = alert.entities.get()
    objects = {
        "incidents/incident": main.pk,
        "incidents/alert": alert.pk,
        "incidents/entity": entity.pk,
        "incidents/workspace": main.workspace.pk,
    }
    visit(page, f"{base}/admin/", watched)
    for model in ADMIN_MODELS:
        visit(page, f"{base}/admin/{model}/", watched)
        visit(page, f"{base}/admin/{model}/?q={quote(PAYLOADS[1])}", watched)
        if model in objects:
            visit(page, f"{base}/admin/{model}/{objects[model]}/change/", watched)
    # The alert actions' intermediate pages, which name the workspace in their help text.
    for action in ("Link selected alerts to incident…", "Add selected alerts to incident…"):
        page.goto(f"{base}/admin/incidents/alert/")
        page.locator("#action-toggle").check()
        page.get_by_role("combobox", name="Action").select_option(label=action)
        page.get_by_role("button", name=re.compile("^Go$|^Run$")).click()
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        checked(page, f"the admin action page “{action}”", watched)
