"""The queue's bulk actions at /incidents/bulk/ (#12 item 9): assign owner, change status,
close with a classification, add a label — previewed in a dialog, then saved for the whole
selection or refused for all of it."""

import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents import actions
from incidents.activity import Actor
from incidents.errors import InvalidChange
from incidents.models import (
    ActivityEntry,
    ActivityKind,
    Classification,
    ClassificationReason,
    Incident,
    IncidentStatus,
    Role,
)
from tests.factories import IncidentFactory, MembershipFactory, UserFactory

URL = "/incidents/bulk/"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def selection(workspace):
    return [
        IncidentFactory(workspace=workspace, title="Phishing wave", labels=["Phishing"]),
        IncidentFactory(workspace=workspace, title="Brute force on VPN"),
    ]


@pytest.fixture
def alice(workspace):
    user = UserFactory(username="alice")
    MembershipFactory(workspace=workspace, user=user, role=Role.CONTRIBUTOR)
    return user


def numbers(incidents) -> list[str]:
    return [str(i.number) for i in incidents]


def post(client, action: str, incidents, **fields):
    data = {"action": action, "incident": numbers(incidents), **fields}
    return client.post(URL, data, headers=HTMX)


def event(response) -> dict:
    return json.loads(response["HX-Trigger"])["incidentsChanged"]


def entries(kind) -> list[ActivityEntry]:
    return list(ActivityEntry.objects.filter(kind=kind).order_by("incident__number", "id"))


def reloaded(incidents) -> list[Incident]:
    return [Incident.objects.get(pk=i.pk) for i in incidents]


# --- the queue offers them ----------------------------------------------------------


def test_the_queue_offers_the_bulk_actions_to_those_who_can_act(
    client, responder, reader, selection
):
    client.force_login(responder)
    html = client.get("/incidents/").content.decode()
    for label in ["Assign owner", "Change status", "Close with classification", "Add label"]:
        assert f"data-bulk-action>{label}</button>" in html
    assert 'hx-get="/incidents/bulk/?action=owner"' in html
    client.force_login(reader)
    assert "data-bulk-action" not in client.get("/incidents/").content.decode()


# --- who may, and how -------------------------------------------------------------------


def test_it_requires_get_or_post(client, responder, selection):
    client.force_login(responder)
    assert client.put(URL).status_code == 405
    assert client.delete(URL).status_code == 405


def test_it_sends_anonymous_users_to_log_in(client, selection):
    response = client.post(URL, {"action": "status", "incident": numbers(selection)})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_forbids_a_reader(client, reader, selection):
    client.force_login(reader)
    assert client.get(URL, {"action": "owner", "incident": numbers(selection)}).status_code == 403
    response = post(client, "status", selection, status="Active")
    assert response.status_code == 403
    assert all(i.status == IncidentStatus.NEW for i in reloaded(selection))
    assert not ActivityEntry.objects.filter(kind=ActivityKind.STATUS).exists()


def test_an_outsider_cannot_change_another_workspaces_incidents(client, outsider, selection):
    client.force_login(outsider)
    response = post(client, "close", selection, classification="Undetermined")
    assert response.status_code == 200
    assert "not in this workspace" in response.content.decode()
    assert all(i.status == IncidentStatus.NEW for i in reloaded(selection))


def test_one_foreign_incident_refuses_the_whole_selection(
    client, responder, selection, other_workspace
):
    foreign = IncidentFactory(workspace=other_workspace, number=999)
    client.force_login(responder)
    response = post(client, "status", [*selection, foreign], status="Active")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Some of the selected incidents no longer exist or are not in this workspace" in html
    assert all(i.status == IncidentStatus.NEW for i in reloaded(selection))
    assert Incident.objects.get(pk=foreign.pk).status == IncidentStatus.NEW


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "explode"}, None),
        ({"action": "status", "incident": [], "status": "Active"}, "Select the incidents"),
        ({"action": "status"}, "Choose New or Active."),
        ({"action": "status", "incident": ["nonsense"]}, "no longer exist"),
        ({"action": "status", "status": "Closed"}, "Choose New or Active."),
        ({"action": "close"}, "Choose a classification to close the incident."),
        ({"action": "close", "classification": "Maybe"}, "Choose one of the listed"),
        ({"action": "label", "label": "   "}, "A label cannot be empty."),
        ({"action": "label", "label": "x" * 101}, "at most 100 characters"),
        ({"action": "owner", "owner": "987654"}, "Choose a member of this workspace"),
    ],
)
def test_bad_input_changes_nothing_and_says_why(client, responder, selection, data, message):
    client.force_login(responder)
    data = {"incident": numbers(selection), **data}
    response = client.post(URL, data, headers=HTMX)
    if message is None:
        assert response.status_code == 400
    else:
        assert response.status_code == 200
        assert message in response.content.decode()
    assert not ActivityEntry.objects.exclude(kind=ActivityKind.CREATED).exists()


def test_a_reader_cannot_be_made_owner(client, responder, reader, selection):
    client.force_login(responder)
    response = post(client, "owner", selection, owner=reader.pk)
    assert response.status_code == 200
    assert all(i.owner_id is None for i in reloaded(selection))


# --- the dialog previews the change -------------------------------------------------


def test_the_dialog_lists_the_selection_and_what_will_change(client, responder, selection):
    client.force_login(responder)
    response = client.get(
        URL,
        {"action": "owner", "incident": numbers(selection), "next": "/incidents/"},
        headers=HTMX,
    )
    html = response.content.decode()
    assert '<h2 id="flyout-title">Assign owner</h2>' in html
    assert "Assign to me (responder)" in html
    # Assign to me is the default, previewed at once.
    assert html.count("Unassigned → <strong>responder</strong>") == 2
    assert f"#{selection[0].number}</span> Phishing wave" in html
    assert "hx-disabled-elt=\"find button[type='submit']\"" in html
    assert 'name="form_token"' in html


def test_the_preview_follows_the_choice_and_shows_a_refusal(client, responder, selection):
    selection[1].status = IncidentStatus.CLOSED
    selection[1].classification = Classification.UNDETERMINED
    selection[1].save()
    client.force_login(responder)
    data = {"action": "status", "incident": numbers(selection), "status": "New"}
    html = client.get(URL, data, headers=HTMX).content.decode()
    assert f"#{selection[1].number} closed: reopen them first" in html
    assert "data-refusal" in html
    label = client.get(
        URL, {"action": "label", "incident": numbers(selection), "label": "phishing"}
    ).content.decode()
    assert "Phishing (no change)" in label
    assert "— → <strong>phishing</strong>" in label


# --- each action ---------------------------------------------------------------------


def test_assign_to_me_assigns_every_selected_incident_with_an_entry_each(
    client, responder, selection
):
    client.force_login(responder)
    response = post(client, "owner", selection, owner=responder.pk)
    assert response.status_code == 204
    assert event(response)["message"] == "2 incidents assigned to responder."
    assert [i.owner_id for i in reloaded(selection)] == [responder.pk, responder.pk]
    found = entries(ActivityKind.OWNER)
    assert [e.incident_id for e in found] == [i.pk for i in selection]
    assert found[0].message == "responder assigned the incident to responder."
    assert found[0].details == {"from": None, "to": "responder", "bulk": True}
    assert found[0].actor == responder


def test_assign_to_another_member_and_unassign(client, responder, alice, selection):
    selection[0].owner = alice
    selection[0].save()
    client.force_login(responder)
    response = post(client, "owner", selection, owner=alice.pk)
    assert event(response)["message"] == "1 incident assigned to alice. 1 incident already was."
    assert len(entries(ActivityKind.OWNER)) == 1
    response = post(client, "owner", selection, owner="")
    assert event(response)["message"] == "2 incidents unassigned."
    assert all(i.owner_id is None for i in reloaded(selection))


def test_change_status_sets_active_with_an_entry_each(client, responder, selection):
    client.force_login(responder)
    response = post(client, "status", selection, status="Active")
    assert event(response)["message"] == "2 incidents set to Active."
    assert [i.status for i in reloaded(selection)] == ["Active", "Active"]
    assert [e.details["from"] for e in entries(ActivityKind.STATUS)] == ["New", "New"]


def test_a_closed_incident_refuses_the_whole_status_change(client, responder, selection):
    actions.close_incident(
        selection[0], classification="Undetermined", actor=Actor.for_user(responder)
    )
    client.force_login(responder)
    response = post(client, "status", selection, status="Active")
    assert response.status_code == 200
    assert f"#{selection[0].number} closed" in response.content.decode()
    assert reloaded(selection)[1].status == IncidentStatus.NEW
    assert not entries(ActivityKind.STATUS)


def test_close_with_a_classification_closes_every_one(client, responder, selection):
    client.force_login(responder)
    response = post(
        client,
        "close",
        selection,
        classification="TruePositive:SuspiciousActivity",
        comment="Same campaign",
    )
    assert response.status_code == 204
    assert (
        event(response)["message"] == "2 incidents closed as True Positive – suspicious activity."
    )
    for incident in reloaded(selection):
        assert incident.status == IncidentStatus.CLOSED
        assert incident.classification == Classification.TRUE_POSITIVE
        assert incident.classification_reason == ClassificationReason.SUSPICIOUS_ACTIVITY
        assert incident.classification_comment == "Same campaign"
        assert incident.closed is not None
    found = entries(ActivityKind.CLOSED)
    assert len(found) == 2
    assert found[0].comment == "Same campaign"
    assert (
        found[0].message == "responder closed the incident as True Positive – suspicious activity."
    )


def test_closing_an_already_closed_one_refuses_them_all(client, responder, selection):
    actions.close_incident(
        selection[1], classification="Undetermined", actor=Actor.for_user(responder)
    )
    client.force_login(responder)
    response = post(client, "close", selection, classification="Undetermined")
    assert f"#{selection[1].number} already closed" in response.content.decode()
    assert reloaded(selection)[0].status == IncidentStatus.NEW


def test_add_label_adds_it_where_missing(client, responder, selection):
    client.force_login(responder)
    response = post(client, "label", selection, label="  phishing ")
    assert event(response)["message"] == "1 incident labelled phishing. 1 incident already was."
    assert [i.labels for i in reloaded(selection)] == [["Phishing"], ["phishing"]]
    response = post(client, "label", selection, label="Campaign 7")
    assert [i.labels for i in reloaded(selection)] == [
        ["Phishing", "Campaign 7"],
        ["phishing", "Campaign 7"],
    ]
    assert [e.details["added"] for e in entries(ActivityKind.LABELS)] == [
        "Campaign 7",
        "phishing",
        "Campaign 7",
    ]


def test_an_incident_with_too_many_labels_refuses_the_whole_selection(client, responder, selection):
    selection[1].labels = [f"l{n}" for n in range(actions.MAX_LABELS)]
    selection[1].save()
    client.force_login(responder)
    response = post(client, "label", selection, label="More")
    assert "already have 50 labels" in response.content.decode()
    assert reloaded(selection)[0].labels == ["Phishing"]


def test_the_action_refuses_what_changed_since_the_preview(responder, selection):
    Incident.objects.filter(pk=selection[0].pk).update(status=IncidentStatus.CLOSED)
    # The objects still say New: the action plans again on the locked rows.
    with pytest.raises(InvalidChange, match="closed"):
        actions.bulk_change_status(selection, "Active", actor=Actor.for_user(responder))
    assert Incident.objects.get(pk=selection[1].pk).status == IncidentStatus.NEW


def test_an_incident_deleted_since_the_selection_refuses_the_whole_change(responder, selection):
    Incident.objects.filter(pk=selection[0].pk).delete()
    with pytest.raises(InvalidChange, match="no longer exist"):
        actions.bulk_add_label(selection, "Late", actor=Actor.for_user(responder))
    assert Incident.objects.get(pk=selection[1].pk).labels == []


# --- safe twice, and without JavaScript ---------------------------------------------


def test_the_same_form_posted_twice_changes_once(client, responder, selection):
    client.force_login(responder)
    data = {
        "action": "close",
        "incident": numbers(selection),
        "classification": "Undetermined",
        "form_token": str(uuid.uuid4()),
    }
    first = client.post(URL, data, headers=HTMX)
    second = client.post(URL, data, headers=HTMX)
    assert (first.status_code, second.status_code) == (204, 204)
    assert event(second)["message"].startswith("Already done: ")
    assert len(entries(ActivityKind.CLOSED)) == 2


def test_without_javascript_it_redirects_back_with_a_message(client, responder, selection):
    client.force_login(responder)
    data = {
        "action": "status",
        "incident": numbers(selection),
        "status": "Active",
        "next": "/incidents/?sort=status",
    }
    response = client.post(URL, data, follow=True)
    assert response.redirect_chain == [("/incidents/?sort=status", 302)]
    assert "2 incidents set to Active." in response.content.decode()


def test_without_javascript_the_dialog_is_a_page_of_its_own(client, responder, selection):
    client.force_login(responder)
    response = client.get(URL, {"action": "label", "incident": numbers(selection)})
    html = response.content.decode()
    assert "<title>Add label" in html
    assert '<form class="dialog-panel bulk-panel" method="post" action="/incidents/bulk/"' in html
    assert html.count('<input type="hidden" name="incident"') == 2


def test_a_next_elsewhere_is_ignored(client, responder, selection):
    client.force_login(responder)
    data = {"action": "status", "incident": numbers(selection), "status": "Active"}
    response = client.post(URL, {**data, "next": "https://evil.example/"})
    assert response["Location"] == "/incidents/"


# --- query counts ------------------------------------------------------------------------


# The preview: session, user, memberships, the selection (and for an owner: the chosen
# member, the member list). Save: the same; the one-time token (look up, savepoint,
# claim, release); the action's savepoint, the locked rows, one UPDATE, one insert of
# the activity entries, release.
@pytest.mark.parametrize(
    ("action", "fields", "expected"),
    [
        ("owner", {"owner": "me"}, (6, 15)),
        ("status", {"status": "Active"}, (4, 13)),
        ("close", {"classification": "FalsePositive:InaccurateData"}, (4, 14)),
        ("label", {"label": "Campaign"}, (4, 13)),
    ],
)
def test_queries_do_not_grow_with_the_selection(
    client, responder, workspace, action, fields, expected
):
    if fields.get("owner") == "me":
        fields = {"owner": responder.pk}
    client.force_login(responder)
    counts = []
    for size in (2, 20):
        incidents = [IncidentFactory(workspace=workspace) for _ in range(size)]
        data = {"action": action, "incident": numbers(incidents), **fields}
        data["form_token"] = str(uuid.uuid4())
        with CaptureQueriesContext(connection) as preview:
            client.get(URL, {k: v for k, v in data.items() if k != "form_token"}, headers=HTMX)
        with CaptureQueriesContext(connection) as saved:
            response = client.post(URL, data, headers=HTMX)
        assert response.status_code == 204, response.content
        counts.append((len(preview), len(saved)))
    assert counts == [expected, expected]
