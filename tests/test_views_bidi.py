"""Spoofable names (#13 item 8): bidirectional control characters are shown, not obeyed.

`invoice\u202etxt.exe` would read as a `.txt`; every page that shows a title, an alert or
entity name, a comment, a label or a workspace name writes the character out instead.
"""

import json
import re

import pytest
from django.utils.safestring import SafeString

from incidents import actions
from incidents.activity import Actor
from incidents.models import CorrelationRule, Role
from incidents.text import reveal_bidi
from tests.factories import (
    EntityFactory,
    IncidentFactory,
    MembershipFactory,
    UserFactory,
    WorkspaceFactory,
    alert_in,
)

RLO = "\u202e"
SHOWN = "⟨U+202E⟩"
SPOOF = f"invoice{RLO}txt.exe"


def test_reveal_bidi_writes_out_every_bidirectional_control_and_nothing_else():
    controls = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
    shown = reveal_bidi(f"a{controls}b")
    assert shown == "a" + "".join(f"⟨U+{ord(c):04X}⟩" for c in controls) + "b"
    assert reveal_bidi("Résumé — עברית ⟨ok⟩ \u200b") == "Résumé — עברית ⟨ok⟩ \u200b"


@pytest.mark.parametrize("text", ["plain ascii", "Résumé — עברית", f"x{RLO}y"])
def test_reveal_bidi_gives_plain_text_even_for_marked_safe_text(text):
    # Marked-safe input must still be escaped where the result is shown.
    shown = reveal_bidi(SafeString(text))
    assert type(shown) is str
    assert shown == text.replace(RLO, SHOWN)


@pytest.fixture
def spoofed(workspace, responder):
    """An incident, its alert and entity, a comment and a label, all named with U+202E."""
    workspace.display_name = f"SOC {SPOOF}"
    workspace.save()
    # A second workspace (after "soc" by name), so the switcher lists both names.
    MembershipFactory(workspace=WorkspaceFactory(name="zz-other"), user=responder)
    incident = IncidentFactory(workspace=workspace, title=SPOOF, labels=[SPOOF])
    alert = alert_in(
        incident, display_name=SPOOF, product_name=SPOOF, extended_properties={"File": SPOOF}
    )
    entity = EntityFactory(
        workspace=workspace, identifier=SPOOF, display_name=SPOOF, properties={"Name": SPOOF}
    )
    alert.entities.add(entity)
    actions.add_comment(incident, f"see {SPOOF}", actor=Actor.for_user(responder))
    return incident, alert, entity


# Form values carry the stored value back unchanged (the label to remove, a filter's choice,
# the rule name being edited): inputs, text areas and options' values (their text is shown).
FORM_VALUES = re.compile(r'<input[^>]*>|<textarea[^>]*>[^<]*</textarea>|(?<=<option) value="[^"]*"')


def shows_it(html: str) -> None:
    assert SHOWN in html
    assert RLO not in FORM_VALUES.sub("", html)


@pytest.mark.parametrize(
    "page",
    [
        "/incidents/",
        "/incidents/{number}/",
        "/incidents/{number}/alerts/",
        "/incidents/{number}/alerts/rows/",
        "/incidents/{number}/entities/",
        "/incidents/{number}/entities/{entity}/",
        "/incidents/{number}/activity/",
        "/incidents/search/?q=invoice",
        "/alerts/",
        "/alerts/{alert}/",
        "/alerts/link/?alert={alert}",
        "/incidents/{number}/alerts/{alert}/remove/",
        "/incidents/merge/?incident={number}&incident={other}",
    ],
)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_every_page_shows_the_control_character_instead_of_obeying_it(
    client, responder, spoofed, page, htmx
):
    incident, alert, entity = spoofed
    client.force_login(responder)
    other = IncidentFactory(workspace=incident.workspace, title="Other")
    url = page.format(
        number=incident.number, alert=alert.system_alert_id, entity=entity.pk, other=other.number
    )
    response = client.get(url, headers={"HX-Request": "true"} if htmx else {})
    assert response.status_code == 200
    shows_it(response.content.decode())


def test_the_overview_shows_labels_and_comments_written_out(client, responder, spoofed):
    incident, _, _ = spoofed
    client.force_login(responder)
    html = client.get(f"/incidents/{incident.number}/").content.decode()
    assert re.search('<span class="chip[^"]*">' + re.escape(f"invoice{SHOWN}txt.exe"), html)
    assert f'<blockquote class="comment"><p>see invoice{SHOWN}txt.exe</p>' in html


def test_the_workspace_switcher_writes_out_the_workspace_name(client, responder, spoofed):
    client.force_login(responder)
    html = client.get("/incidents/").content.decode()
    assert f"SOC invoice{SHOWN}txt.exe</option>" in html


def test_the_entity_panel_writes_out_name_identifier_and_properties(client, responder, spoofed):
    incident, _, entity = spoofed
    client.force_login(responder)
    html = client.get(f"/incidents/{incident.number}/entities/{entity.pk}/").content.decode()
    assert f'<h2 id="entity-panel-title">invoice{SHOWN}txt.exe</h2>' in html
    assert f"<dd><code>invoice{SHOWN}txt.exe</code></dd>" in html
    assert f"<dt>Name</dt><dd>invoice{SHOWN}txt.exe</dd>" in html


def test_the_add_alert_dialog_writes_out_the_alert_name_and_title(
    client, responder, workspace, spoofed
):
    _, alert, _ = spoofed
    other = IncidentFactory(workspace=workspace, title="Elsewhere")
    client.force_login(responder)
    url = f"/incidents/{other.number}/alerts/{alert.system_alert_id}/add/"
    shows_it(client.get(url).content.decode())


def test_the_graph_json_writes_out_titles_names_and_entity_labels(client, responder, spoofed):
    incident, _, _ = spoofed
    client.force_login(responder)
    response = client.get(f"/incidents/{incident.number}/graph.json")
    assert RLO not in response.content.decode("unicode_escape")
    data = json.loads(response.content)
    assert data["incident"]["title"] == f"invoice{SHOWN}txt.exe"
    (node,) = data["alerts"]
    assert node["name"] == f"invoice{SHOWN}txt.exe"
    assert node["incidents"][0]["title"] == f"invoice{SHOWN}txt.exe"
    (entity_node,) = data["entities"]
    assert entity_node["label"] == entity_node["identifier"] == f"invoice{SHOWN}txt.exe"
    assert entity_node["properties"] == [["Name", f"invoice{SHOWN}txt.exe"]]


def test_the_graphs_related_incidents_write_out_titles(client, responder, workspace, spoofed):
    _, _, entity = spoofed
    elsewhere = IncidentFactory(workspace=workspace, title="Elsewhere")
    alert_in(elsewhere).entities.add(entity)
    client.force_login(responder)
    url = f"/incidents/{elsewhere.number}/graph/entities/{entity.pk}/related-incidents.json"
    data = client.get(url).json()
    assert [i["title"] for i in data["incidents"]] == [f"invoice{SHOWN}txt.exe"]


def test_the_stored_values_keep_their_characters(spoofed):
    incident, alert, entity = spoofed
    incident.refresh_from_db()
    assert (incident.title, alert.display_name, entity.display_name) == (SPOOF, SPOOF, SPOOF)


def test_a_flash_message_naming_an_incident_writes_it_out(client, responder, spoofed):
    incident, _, _ = spoofed
    client.force_login(responder)
    response = client.post(
        f"/incidents/{incident.number}/status/", {"status": "Active"}, follow=True
    )
    shows_it(response.content.decode())


def test_a_message_with_a_link_keeps_its_link(client, responder, workspace, spoofed):
    _, alert, _ = spoofed
    target = IncidentFactory(workspace=workspace, title="Target")
    client.force_login(responder)
    response = client.post(
        "/alerts/link/",
        {"alert": str(alert.system_alert_id), "target": "existing", "incident": target.number},
        follow=True,
    )
    html = response.content.decode()
    assert f'<a href="/incidents/{target.number}/">Open incident #{target.number}</a>' in html
    assert RLO not in html


@pytest.mark.parametrize(
    "page", ["/rules/", "/rules/{rule}/", "/rules/{rule}/edit/", "/rules/{rule}/test/"]
)
def test_the_rules_pages_write_out_rule_names(client, workspace, spoofed, page):
    rule = CorrelationRule.objects.create(workspace=workspace, name=SPOOF, name_contains="invoice")
    contributor = UserFactory(username="contributor")
    MembershipFactory(workspace=workspace, user=contributor, role=Role.CONTRIBUTOR)
    client.force_login(contributor)
    response = client.get(page.format(rule=rule.pk))
    assert response.status_code == 200
    shows_it(response.content.decode())


def test_the_queues_details_panel_writes_out_names(client, responder, spoofed):
    incident, _, _ = spoofed
    client.force_login(responder)
    response = client.get(f"/incidents/{incident.number}/panel/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    shows_it(response.content.decode())
