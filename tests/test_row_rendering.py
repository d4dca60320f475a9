"""Long lists render their rows without reversing a URL per row (#14): the addresses come
from `{% url_pattern %}` once per page, and timestamps from a filter, not a template."""

import datetime as dt
import uuid

import pytest
from django.template import Context, Template
from django.urls import reverse

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
