"""Long lists render their rows without reversing a URL per row (#14): the addresses come
from `{% url_pattern %}` once per page, and timestamps from a filter, not a template."""

import datetime as dt
import uuid

import pytest
from django.template import Context, RequestContext, Template
from django.template.defaulttags import querystring
from django.urls import reverse
from django.utils.dateformat import format as format_date
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from incidents.templatetags.rows import html_row, product_links, timestamp
from tests.factories import alert_in, incident_with_alerts

pytestmark = pytest.mark.django_db


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


def test_a_pattern_gives_the_urlconfs_address_for_each_number_or_uuid():
    alert_id = uuid.uuid4()
    html = render(
        "{% url_pattern 'incidents:incident' as i %}{% url_pattern 'incidents:alert' as a %}"
        "{{ i|fill:n }} {{ a|fill:u }}",
        n=42,
        u=alert_id,
    )
    assert html == f"{reverse('incidents:incident', args=[42])} " + reverse(
        "incidents:alert", args=[alert_id]
    )


def test_a_timestamp_is_a_time_element_or_a_dash(settings):
    settings.TIME_ZONE = "UTC"
    when = dt.datetime(2026, 12, 3, 12, 24, 5, tzinfo=dt.UTC)
    assert render("{{ t|timestamp }}", t=when) == (
        '<time datetime="2026-12-03T12:24:05+00:00">2026-12-03 12:24</time>'
    )
    assert render("{{ t|timestamp }}", t=None) == '<span class="muted">—</span>'


@pytest.mark.parametrize(
    "when",
    [
        dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC),
        dt.datetime(5, 6, 7, 8, 9, tzinfo=dt.timezone(dt.timedelta(hours=-5, minutes=-30))),
        dt.datetime(2026, 12, 31, 23, 59, 59),
    ],
)
def test_a_timestamp_says_what_djangos_date_formats_say(when):
    assert timestamp(when) == (
        f'<time datetime="{format_date(when, "c")}">{format_date(when, "Y-m-d H:i")}</time>'
    )


def test_row_values_are_escaped_unless_they_are_html_already():
    html = html_row(
        "<td>{a}</td><td>{b}</td><td>{c}</td>", a="<b>&'\"", b=mark_safe("<i>x</i>"), c=7
    )
    assert html == format_html(
        "<td>{}</td><td>{}</td><td>{}</td>", "<b>&'\"", mark_safe("<i>x</i>"), 7
    )


@pytest.mark.parametrize(
    "query",
    [
        "",
        "status=&q=a+b%26c",
        "cursor=abc&severity=High",
        "product=Old&status=New",
        "tactic=x&tactic=y",
    ],
)
def test_a_product_link_is_the_querystring_tags_address(rf, query):
    context = RequestContext(rf.get(f"/incidents/?{query}"))
    link = product_links(context)
    for product in ["Microsoft Defender for Endpoint", "A&B / ünïcode?", "50%+"]:
        assert link(product) == querystring(context, product=product, cursor=None)


@pytest.mark.parametrize("url", ["/incidents/?status=", "/alerts/", "alerts tab", "overview"])
def test_the_lists_reverse_as_many_urls_for_thirty_rows_as_for_one(
    client, responder, workspace, monkeypatch, url
):
    import django.urls

    from incidents import models

    # `{% url %}` imports django.urls.reverse when it renders; models imported it.
    calls = []
    for module in (django.urls, models):
        original = module.reverse
        monkeypatch.setattr(
            module, "reverse", lambda *a, _o=original, **k: calls.append(a) or _o(*a, **k)
        )
    client.force_login(responder)
    counts = []
    for size in (1, 30):
        incident = incident_with_alerts(size, workspace=workspace)
        for _ in range(size - 1):
            incident_with_alerts(1, workspace=workspace)
        alert_in(incident)
        tabs = {"alerts tab": "alerts/", "overview": ""}
        target = f"/incidents/{incident.number}/{tabs[url]}" if url in tabs else url
        calls.clear()
        assert client.get(target).status_code == 200
        counts.append(len(calls))
    assert counts[0] == counts[1]


def test_an_entity_row_links_its_panel_keeps_the_kind_and_escapes_its_names(workspace):
    from incidents.templatetags.rows import entity_rows
    from tests.factories import EntityFactory

    incident = incident_with_alerts(1, workspace=workspace)
    entity = EntityFactory(
        workspace=workspace, kind="host", identifier='<b>"pc"</b>\u202e', display_name=""
    )
    entity.incident_alerts, entity.other_open_incidents = 3, 0
    url = reverse("incidents:incident_entity", args=[incident.number, entity.pk]) + "?kind=host"

    html = entity_rows([entity], incident, entity, "host")

    assert html == (
        '<tr class="selected"><td class="title">'
        f'<a id="entity-{entity.pk}" href="{url}" hx-get="{url}" hx-target="#incident" '
        'hx-swap="outerHTML" hx-push-url="true" aria-current="true" '
        'title="&lt;b&gt;&quot;pc&quot;&lt;/b&gt;⟨U+202E⟩">'
        "&lt;b&gt;&quot;pc&quot;&lt;/b&gt;⟨U+202E⟩</a></td>"
        '<td class="count">3</td><td class="count">0</td></tr>\n'
    )
    assert 'class="selected"' not in entity_rows([entity], incident, None, "")
