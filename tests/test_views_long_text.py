"""Long text and Markdown comments on the pages (#12 item 13): comments are Markdown,
rendered safely wherever they are shown; long comments and descriptions fold to a few
lines behind "Show more" (static/js/long-text.js)."""

import pytest

from incidents import actions
from incidents.activity import Actor
from tests.factories import IncidentFactory, alert_in

SHOW_MORE = (
    '<button type="button" class="button-link long-text-toggle" aria-expanded="false" '
    "hidden>Show more</button>"
)
LONG_COMMENT = "\n".join(f"Step {n}: checked host-{n}" for n in range(1, 13))
ATTACK = "**Isolated** [runbook](https://wiki.contoso.com/r)\n<script>alert(1)</script>"


@pytest.fixture
def incident(workspace):
    return IncidentFactory(workspace=workspace)


def comment(incident, user, text):
    actions.add_comment(incident, text, actor=Actor.for_user(user))


def page(client, url) -> str:
    # The queue's details panel is a fragment: without htmx it sends to the incident.
    headers = {"HX-Request": "true"} if url.endswith("/panel/") else {}
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    return response.content.decode()


PLACES = {
    "overview": "/incidents/{number}/",
    "activity": "/incidents/{number}/activity/",
    "panel": "/incidents/{number}/panel/",
}


@pytest.mark.parametrize("place", PLACES)
def test_comments_are_markdown_rendered_safely(client, responder, incident, place):
    comment(incident, responder, ATTACK)
    client.force_login(responder)
    html = page(client, PLACES[place].format(number=incident.number))
    assert (
        '<p><strong>Isolated</strong> <a href="https://wiki.contoso.com/r" '
        'rel="nofollow noopener noreferrer" target="_blank">runbook</a><br />\n'
        "&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    ) in html
    assert "<script>alert(1)" not in html


@pytest.mark.parametrize("place", PLACES)
def test_a_long_comment_folds_behind_show_more(client, responder, incident, place):
    comment(incident, responder, LONG_COMMENT)
    client.force_login(responder)
    html = page(client, PLACES[place].format(number=incident.number))
    assert '<div class="long-text" data-long-text><div class="long-text-body"><p>Step 1:' in html
    assert f"checked host-12</p>\n</div>{SHOW_MORE}</div>" in html
    assert "checked host-1<br />\nStep 2" in html


def test_a_short_comment_does_not_fold(client, responder, incident):
    comment(incident, responder, "Benign: the admin's scheduled task.\nClosing.")
    client.force_login(responder)
    html = page(client, f"/incidents/{incident.number}/")
    assert (
        '<blockquote class="comment"><p>Benign: the admin\'s scheduled task.<br />\nClosing.</p>'
    ) in html.replace("&#x27;", "'")
    assert "data-long-text" not in html


def test_a_closing_comment_is_markdown(client, responder, incident):
    actions.close_incident(
        incident,
        classification="FalsePositive",
        reason="IncorrectAlertLogic",
        comment="See [the rule](https://wiki.contoso.com/rule)\n<img src=x onerror=alert(1)>",
        actor=Actor.for_user(responder),
    )
    client.force_login(responder)
    html = page(client, f"/incidents/{incident.number}/")
    assert '<a href="https://wiki.contoso.com/rule" rel="nofollow noopener noreferrer"' in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img src=x" not in html


def test_a_long_incident_description_folds_and_keeps_its_line_breaks(client, reader, workspace):
    incident = IncidentFactory(
        workspace=workspace, description="\n".join(f"Line {n} <b>" for n in range(10))
    )
    client.force_login(reader)
    html = page(client, f"/incidents/{incident.number}/")
    assert (
        '<dd><div class="long-text" data-long-text><div class="long-text-body">'
        "Line 0 &lt;b&gt;<br>Line 1 &lt;b&gt;<br>"
    ) in html
    assert SHOW_MORE in html


def test_a_long_alert_description_folds(client, reader, incident):
    alert = alert_in(incident, description="Suspicious activity. " * 30)
    client.force_login(reader)
    html = page(client, alert.get_absolute_url())
    folded = '<dd><div class="long-text" data-long-text><div class="long-text-body">Suspicious'
    assert folded in html
    assert SHOW_MORE in html


def test_a_short_description_does_not_fold(client, reader, incident):
    alert = alert_in(incident, description="One line.")
    client.force_login(reader)
    assert "data-long-text" not in page(client, alert.get_absolute_url())
