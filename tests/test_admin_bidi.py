"""The admin writes out bidirectional control characters in names, as the app does
(#13 item 8): a data fix must not be made on a spoofed name."""

import pytest

from incidents import actions
from incidents.activity import Actor
from incidents.models import Workspace
from tests.factories import AlertFactory, EntityFactory, IncidentFactory, UserFactory, alert_in

RLO = "\u202e"
SHOWN = "⟨U+202E⟩"


@pytest.fixture
def spoofed(workspace):
    Workspace.objects.filter(pk=workspace.pk).update(display_name=f"soc{RLO}cos")
    incident = IncidentFactory(workspace=workspace, title=f"invoice{RLO}txt.exe")
    alert = alert_in(incident, display_name=f"alert{RLO}fdp.exe")
    alert.entities.add(EntityFactory(workspace=workspace, identifier=f"host{RLO}x"))
    AlertFactory(workspace=workspace, display_name=f"alone{RLO}y")
    actions.add_comment(incident, "checked", actor=Actor.for_user(UserFactory(username=f"u{RLO}")))
    return incident


@pytest.mark.parametrize(
    "page",
    [
        "/admin/incidents/workspace/",
        "/admin/incidents/incident/",
        "/admin/incidents/alert/",
        "/admin/incidents/entity/",
        "/admin/incidents/relation/",
        "/admin/incidents/activityentry/",
    ],
)
def test_changelists_write_out_bidi_controls(admin_client, spoofed, page):
    html = admin_client.get(page).content.decode()
    assert SHOWN in html
    assert RLO not in html


def test_the_change_page_names_the_object_written_out_and_keeps_the_value(admin_client, spoofed):
    html = admin_client.get(f"/admin/incidents/incident/{spoofed.pk}/change/").content.decode()
    assert f"#{spoofed.number} invoice{SHOWN}txt.exe" in html  # title and breadcrumbs
    # The form field holds the stored value, so saving keeps it.
    assert f'value="invoice{RLO}txt.exe"' in html
