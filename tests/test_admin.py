"""The admin site: every page renders, searches find, and alert membership changes only
through `incidents.membership` (the alert actions), with their refusals."""

from typing import Any

import pytest
from django import forms
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.db import connection
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from incidents import actions, membership
from incidents.activity import Actor
from incidents.api.tokens import create_token
from incidents.models import (
    ActivityEntry,
    ActivityKind,
    Alert,
    ApiToken,
    Bookmark,
    Classification,
    Entity,
    EntityKind,
    Incident,
    IncidentStatus,
    Membership,
    Relation,
    Via,
    Workspace,
)
from incidents.rules.defaults import DEFAULT_RULES
from tests.factories import (
    INGESTION,
    AlertFactory,
    BookmarkFactory,
    EntityFactory,
    IncidentFactory,
    UserFactory,
    WorkspaceFactory,
    alert_in,
    incident_with_alerts,
)

DEFENDER = "Microsoft Defender XDR"
MODELS = [
    Workspace,
    Membership,
    Incident,
    Alert,
    Entity,
    Bookmark,
    Relation,
    ActivityEntry,
    ApiToken,
]


def changelist(model: type[Model], query: str = "") -> str:
    return reverse(f"admin:incidents_{model._meta.model_name}_changelist") + query


def admin_url(obj: Model, view: str = "change") -> str:
    return reverse(f"admin:incidents_{obj._meta.model_name}_{view}", args=[obj.pk])


def results(client: Client, model: type[Model], term: str) -> list[Model]:
    response = client.get(changelist(model), {"q": term})
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def alerts_of(incident: Incident) -> set[Alert]:
    return set(Alert.objects.filter(relations__incident=incident))


def incidents_of(alert: Alert) -> set[Incident]:
    return set(Incident.objects.filter(relations__alert=alert))


def activity(incident: Incident, kind: str) -> list[ActivityEntry]:
    return list(incident.activity.filter(kind=kind))


def run_action(
    client: Client, action: str, objects: list[Model], query: str = "", **fields: Any
) -> Any:
    """Submit an action's intermediate form (or a one-step action) from the changelist."""
    model = type(objects[0])
    data = {
        "action": action,
        ACTION_CHECKBOX_NAME: [o.pk for o in objects],
        "post": "yes",
        **fields,
    }
    return client.post(changelist(model, query), data)


def link(client: Client, alerts: list[Alert], destination: Incident, **fields: Any) -> Any:
    fields = {"incident": f"#{destination.number}", "other_incident": "keep", **fields}
    return run_action(client, "link_to_incident", alerts, **fields)


def add(client: Client, alerts: list[Alert], destination: Incident, **fields: Any) -> Any:
    fields = {"incident": f"#{destination.number}", "other_incident": "keep", **fields}
    return run_action(client, "add_to_incident", alerts, **fields)


def snapshot() -> tuple:
    """Everything an alert action could change."""
    return (
        set(Relation.objects.values_list("incident_id", "alert_id", "bookmark_id")),
        ActivityEntry.objects.count(),
        set(Incident.objects.values_list("pk", "status", "alert_count")),
        LogEntry.objects.count(),
    )


def form_data(response) -> dict[str, Any]:
    """What a browser would post back from an admin change page, untouched."""
    data: dict[str, Any] = {}

    def put(form: forms.BaseForm) -> None:
        for bound in form:
            value = bound.value()
            widget = bound.field.widget
            if isinstance(widget, forms.MultiWidget):
                parts = widget.decompress(value)
                for suffix, part in zip(widget.widgets_names, parts, strict=True):
                    data[bound.html_name + suffix] = "" if part is None else str(part)
            elif isinstance(value, list):
                data[bound.html_name] = [str(v) for v in value]
            elif value is not None:
                data[bound.html_name] = str(value)

    put(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        put(inline.formset.management_form)
        for form in inline.formset.initial_forms:
            data[form.add_prefix(form._meta.model._meta.pk.name)] = form.instance.pk
    return data


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    """Factories hash every user's password; the default hasher makes that slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def data(workspace, responder) -> dict[type[Model], Model]:
    """One object of every model, linked the way real data is."""
    incident = incident_with_alerts(2, workspace=workspace)
    alert = Alert.objects.filter(relations__incident=incident).first()
    entity = EntityFactory(workspace=workspace)
    alert.entities.add(entity)
    bookmark = BookmarkFactory(workspace=workspace, created_by=responder)
    membership.put_relation(incident, "hunt", bookmark, actor=INGESTION)
    return {
        Workspace: workspace,
        Membership: Membership.objects.get(user=responder),
        Incident: incident,
        Alert: alert,
        Entity: entity,
        Bookmark: bookmark,
        Relation: Relation.objects.filter(incident=incident).first(),
        ActivityEntry: incident.activity.first(),
        ApiToken: create_token(responder, workspace=workspace, name="playbook")[0],
    }


# --- every page renders ------------------------------------------------------


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_changelist_renders_with_data(admin_client, data, model):
    response = admin_client.get(changelist(model))

    assert response.status_code == 200
    assert list(response.context["cl"].result_list)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_change_page_renders_with_data(admin_client, data, model):
    response = admin_client.get(admin_url(data[model]))

    assert response.status_code == 200


def test_incident_change_page_shows_relations_and_activity_read_only(admin_client, data):
    incident = data[Incident]

    response = admin_client.get(admin_url(incident))

    inlines = {i.opts.model: i for i in response.context["inline_admin_formsets"]}
    assert set(inlines) == {Relation, ActivityEntry}
    for inline in inlines.values():
        assert not inline.has_add_permission
        assert not inline.has_change_permission
        assert not inline.has_delete_permission
    assert len(inlines[Relation].formset.forms) == 3  # two alerts and a bookmark
    assert "hunt" in response.text


def test_incident_change_form_saves_edits_and_leaves_relations_and_activity_alone(
    admin_client, data
):
    incident = data[Incident]
    before = snapshot()
    page = admin_client.get(admin_url(incident))

    response = admin_client.post(
        admin_url(incident), {**form_data(page), "title": "Ransomware on the file server"}
    )

    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.title == "Ransomware on the file server"
    relations, entries, _, _ = snapshot()
    assert (relations, entries) == before[:2]


def test_incident_number_uuid_and_alert_count_are_read_only(admin_client, data):
    response = admin_client.get(admin_url(data[Incident]))

    form = response.context["adminform"].form
    assert {"title", "severity", "labels"} <= set(form.fields)
    assert not {"number", "uuid", "alert_count", "workspace", "status"} & set(form.fields)


def test_incident_form_refuses_a_new_provider_for_an_incident_with_alerts(admin_client, data):
    incident = data[Incident]
    before = snapshot()
    page = admin_client.get(admin_url(incident))

    response = admin_client.post(
        admin_url(incident), {**form_data(page), "provider_name": DEFENDER, "title": "Renamed"}
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["provider_name"]
    assert errors == [
        "The provider of an incident that has alerts cannot change: it decides whether its "
        "alerts may be added or removed here. Keep “Microsoft Sentinel”."
    ]
    incident.refresh_from_db()
    assert incident.provider_name == "Microsoft Sentinel"
    assert incident.title != "Renamed"
    assert snapshot() == before


def test_incident_form_changes_the_provider_of_an_incident_without_alerts(admin_client, workspace):
    incident = IncidentFactory(workspace=workspace)
    page = admin_client.get(admin_url(incident))

    response = admin_client.post(
        admin_url(incident), {**form_data(page), "provider_name": DEFENDER}
    )

    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.provider_name == DEFENDER


# --- search --------------------------------------------------------------------


def test_incident_search_finds_by_number_with_or_without_hash(admin_client, workspace):
    IncidentFactory(workspace=workspace, title="Brute force attack")
    target = IncidentFactory(workspace=workspace, title="Impossible travel")

    assert results(admin_client, Incident, str(target.number)) == [target]
    assert results(admin_client, Incident, f"#{target.number}") == [target]


def test_incident_search_finds_by_words_of_the_title(admin_client, workspace):
    target = IncidentFactory(workspace=workspace, title="Ransomware on the file server")
    IncidentFactory(workspace=workspace, title="Brute force attack")

    assert results(admin_client, Incident, "ransomware") == [target]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_a_thousand_word_search_is_shortened_and_says_so(admin_client, data, model):
    response = admin_client.get(changelist(model), {"q": " ".join(["zz"] * 1000)})

    assert response.status_code == 200
    assert messages_of(response) == ["Search shortened to the first 20 words and 200 characters."]


def test_a_search_within_the_bounds_says_nothing(admin_client, data):
    response = admin_client.get(changelist(Incident), {"q": '"suspicious activity" #1 x'})

    assert response.status_code == 200
    assert messages_of(response) == []


def test_a_shortened_search_keeps_its_first_words_and_quoted_phrases(admin_client, workspace):
    target = IncidentFactory(workspace=workspace, title="Ransomware on the file server")
    IncidentFactory(workspace=workspace, title="Ransomware on laptops")
    words = '"the file server" ransomware ' + " ".join(["ransomware"] * 100)

    assert results(admin_client, Incident, words) == [target]


def test_alert_search_finds_by_system_alert_id(admin_client, workspace):
    incident = IncidentFactory(workspace=workspace)
    target = alert_in(incident)
    alert_in(incident)

    assert results(admin_client, Alert, str(target.system_alert_id)) == [target]


def test_entity_search_finds_by_identifier(admin_client, workspace):
    target = EntityFactory(workspace=workspace, kind=EntityKind.IP, identifier="203.0.113.7")
    EntityFactory(workspace=workspace, identifier="fs01.contoso.com")

    assert results(admin_client, Entity, "203.0.113.7") == [target]


def test_workspace_search_finds_by_name(admin_client, workspace):
    WorkspaceFactory(name="elsewhere")

    assert results(admin_client, Workspace, "soc") == [workspace]


def test_activity_search_finds_the_entries_of_an_incident_number(admin_client, workspace):
    target = incident_with_alerts(1, workspace=workspace)
    incident_with_alerts(1, workspace=workspace)

    found = results(admin_client, ActivityEntry, f"#{target.number}")

    assert found
    assert {e.incident for e in found} == {target}


def test_relation_search_finds_by_system_alert_id(admin_client, data):
    alert = data[Alert]

    found = results(admin_client, Relation, str(alert.system_alert_id))

    assert [r.alert for r in found] == [alert]


# --- what nobody may do ----------------------------------------------------------


@pytest.mark.parametrize("model", [Relation, ActivityEntry], ids=lambda m: m.__name__)
def test_relations_and_activity_cannot_be_added_changed_or_deleted(admin_client, data, model):
    obj = data[model]
    before = snapshot()

    add_page = admin_client.get(changelist(model) + "add/")
    change = admin_client.post(admin_url(obj), {"name": "renamed", "message": "rewritten"})
    delete = admin_client.post(admin_url(obj, "delete"), {"post": "yes"})
    listing = admin_client.get(changelist(model))
    view = admin_client.get(admin_url(obj))

    assert add_page.status_code == 403
    assert change.status_code == 403
    assert delete.status_code == 403
    assert listing.context["action_form"] is None  # no "delete selected"
    assert not listing.context["has_add_permission"]
    assert view.status_code == 200
    assert not view.context["has_change_permission"]
    assert snapshot() == before


@pytest.mark.parametrize("model", [Incident, Alert], ids=lambda m: m.__name__)
def test_incidents_and_alerts_cannot_be_added_or_deleted(admin_client, data, model):
    obj = data[model]

    add_page = admin_client.get(changelist(model) + "add/")
    delete = admin_client.post(admin_url(obj, "delete"), {"post": "yes"})

    assert add_page.status_code == 403
    assert delete.status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()


def test_workspace_with_incidents_cannot_be_deleted_through_the_admin(admin_client, data):
    response = admin_client.post(admin_url(data[Workspace], "delete"), {"post": "yes"})

    assert response.context["title"] == "Cannot delete workspace"
    assert "incident" in response.context["perms_lacking"]
    assert Workspace.objects.filter(pk=data[Workspace].pk).exists()


# --- "Link selected alerts to incident…" ---------------------------------------------


def test_link_action_asks_for_the_destination_first(admin_client, workspace):
    source = incident_with_alerts(2, workspace=workspace)
    alerts = sorted(alerts_of(source), key=lambda a: a.pk)

    response = admin_client.post(
        changelist(Alert),
        {"action": "link_to_incident", ACTION_CHECKBOX_NAME: [a.pk for a in alerts], "index": 0},
    )

    assert response.status_code == 200
    assert response.template_name == "admin/incidents/alert/alerts_to_incident.html"
    assert set(response.context["form"].fields) == {"incident", "comment", "other_incident"}
    assert f"#{source.number}" in response.text
    assert "Keep other incident" in response.text
    assert "Close other incident" in response.text


def test_link_action_moves_alerts_and_logs_both_incidents(admin_client, workspace):
    source = incident_with_alerts(2, workspace=workspace)
    destination = incident_with_alerts(1, workspace=workspace)
    alerts = list(alerts_of(source))

    response = link(admin_client, alerts, destination, comment="Same attacker")

    assert response.status_code == 302
    assert alerts_of(source) == set()
    assert set(alerts) < alerts_of(destination)
    # Leaving its only incident is what a move is for: the last-incident rule does not apply.
    assert all(incidents_of(a) == {destination} for a in alerts)
    moved_in = activity(destination, ActivityKind.ALERT_MOVED_IN)
    moved_out = activity(source, ActivityKind.ALERT_MOVED_OUT)
    assert len(moved_in) == len(moved_out) == 1
    for entry in moved_in + moved_out:
        assert (entry.actor_name, entry.via, entry.comment) == ("admin", Via.ADMIN, "Same attacker")
    assert "by admin (admin site)" in moved_in[0].message
    source.refresh_from_db()
    assert (source.status, source.alert_count) == (IncidentStatus.NEW, 0)
    (message,) = messages_of(response)
    assert "Linked 2 alerts to incident" in message
    assert f"#{destination.number} {destination.title}" in message
    assert f"Moved from #{source.number}." in message
    assert (
        LogEntry.objects.filter(
            object_id__in=[str(a.pk) for a in alerts],
            change_message=f"Linked to incident #{destination.number}.",
        ).count()
        == 2
    )


def test_link_action_closes_the_emptied_incident_when_asked(admin_client, workspace):
    source = incident_with_alerts(1, workspace=workspace)
    destination = incident_with_alerts(1, workspace=workspace)

    response = link(admin_client, list(alerts_of(source)), destination, other_incident="close")

    source.refresh_from_db()
    assert source.status == IncidentStatus.CLOSED
    assert source.classification == Classification.UNDETERMINED
    assert source.classification_comment == (
        f"Alert was added to another incident #{destination.number}."
    )
    assert activity(source, ActivityKind.CLOSED)
    assert f"Closed #{source.number}." in messages_of(response)[0]


def test_link_action_refuses_a_full_destination_and_changes_nothing(
    admin_client, workspace, settings
):
    settings.TRIAGE_MAX_ALERTS_PER_INCIDENT = 3
    source = incident_with_alerts(2, workspace=workspace)
    destination = incident_with_alerts(2, workspace=workspace)
    before = snapshot()

    response = link(admin_client, list(alerts_of(source)), destination)

    assert response.status_code == 200  # the form again, to choose another incident
    (message,) = messages_of(response)
    assert message == (
        f"Incident #{destination.number} has 2 alerts; adding 2 more would pass the limit of 3 "
        "alerts per incident. Nothing was changed."
    )
    assert message in response.text
    assert snapshot() == before


def test_link_action_refuses_more_alerts_than_an_incident_holds(admin_client, workspace, settings):
    settings.TRIAGE_MAX_ALERTS_PER_INCIDENT = 2
    sources = [incident_with_alerts(n, workspace=workspace) for n in (2, 1)]
    alerts = [alert for source in sources for alert in alerts_of(source)]
    destination = IncidentFactory(workspace=workspace)
    before = snapshot()

    response = link(admin_client, alerts, destination)

    assert response.status_code == 302
    assert messages_of(response) == ["Select at most 2 alerts: an incident holds no more."]
    assert snapshot() == before


def test_link_action_refuses_defender_alerts_leaving_a_defender_incident(admin_client, workspace):
    source = IncidentFactory(workspace=workspace, provider_name=DEFENDER)
    alert = alert_in(source, provider_name=DEFENDER)
    destination = incident_with_alerts(1, workspace=workspace)
    before = snapshot()

    response = link(admin_client, [alert], destination)

    (message,) = messages_of(response)
    assert message.startswith(f"{DEFENDER} alerts cannot be removed from {DEFENDER} incidents here")
    assert snapshot() == before


def test_link_action_refuses_alerts_of_several_workspaces(admin_client, workspace):
    here = alert_in(IncidentFactory(workspace=workspace))
    there = alert_in(IncidentFactory(workspace=WorkspaceFactory(name="elsewhere")))
    destination = incident_with_alerts(1, workspace=workspace)
    before = snapshot()

    response = link(admin_client, [here, there], destination)

    assert response.status_code == 302
    (message,) = messages_of(response)
    assert message.startswith("The selected alerts are in 2 workspaces (Elsewhere, Soc).")
    assert snapshot() == before


def test_link_action_reports_an_incident_number_missing_from_the_workspace(admin_client, workspace):
    alert = alert_in(IncidentFactory(workspace=workspace))
    before = snapshot()

    response = run_action(
        admin_client, "link_to_incident", [alert], incident="#999", other_incident="keep"
    )

    assert response.status_code == 200
    assert response.context["form"].errors["incident"] == [
        "There is no incident #999 in workspace Soc."
    ]
    assert snapshot() == before


@pytest.mark.parametrize("number", ["²", "#１２", "9" * 23, "twelve"])
def test_link_action_asks_again_for_what_is_no_incident_number(admin_client, workspace, number):
    alert = alert_in(IncidentFactory(workspace=workspace))
    before = snapshot()

    response = run_action(
        admin_client, "link_to_incident", [alert], incident=number, other_incident="keep"
    )

    assert response.status_code == 200
    assert response.context["form"].errors["incident"] == [
        "Enter the incident's number, such as #123."
    ]
    assert snapshot() == before


def test_link_action_acts_only_on_selected_alerts_that_the_filtered_list_shows(
    admin_client, workspace
):
    here = alert_in(IncidentFactory(workspace=workspace))
    other_source = IncidentFactory(workspace=WorkspaceFactory(name="elsewhere"))
    there = alert_in(other_source)
    destination = incident_with_alerts(1, workspace=workspace)

    response = run_action(
        admin_client,
        "link_to_incident",
        [here, there],
        query=f"?workspace__id__exact={workspace.pk}",
        incident=f"#{destination.number}",
        other_incident="keep",
    )

    assert "Linked 1 alert to incident" in messages_of(response)[0]
    assert incidents_of(here) == {destination}
    assert incidents_of(there) == {other_source}


# --- "Add selected alerts to incident…" -------------------------------------------------


def test_add_action_adds_alerts_and_keeps_their_other_incidents(admin_client, workspace):
    source = incident_with_alerts(2, workspace=workspace)
    destination = incident_with_alerts(1, workspace=workspace)
    alert = next(iter(alerts_of(source)))
    source_entries = source.activity.count()

    response = add(admin_client, [alert], destination, comment="Same host")

    assert response.status_code == 302
    assert incidents_of(alert) == {source, destination}
    (entry,) = activity(destination, ActivityKind.ALERT_ADDED)
    assert (entry.actor_name, entry.via, entry.comment) == ("admin", Via.ADMIN, "Same host")
    assert f"It also belongs to #{source.number}." in entry.message
    assert source.activity.count() == source_entries  # the source did not change
    (message,) = messages_of(response)
    assert "Added 1 alert to incident" in message
    assert f"#{destination.number} {destination.title}" in message
    assert f"Also still in #{source.number}." in message


def test_add_action_closes_the_other_incident_of_a_sole_alert_when_asked(admin_client, workspace):
    source = incident_with_alerts(1, workspace=workspace)
    destination = incident_with_alerts(1, workspace=workspace)
    (alert,) = alerts_of(source)

    response = add(admin_client, [alert], destination, other_incident="close")

    source.refresh_from_db()
    assert incidents_of(alert) == {source, destination}
    assert (source.status, source.classification) == (
        IncidentStatus.CLOSED,
        Classification.UNDETERMINED,
    )
    (closed,) = activity(source, ActivityKind.CLOSED)
    assert closed.via == Via.ADMIN
    assert activity(destination, ActivityKind.ALERT_ADDED)
    assert f"Closed #{source.number}." in messages_of(response)[0]


def test_add_action_refuses_a_full_destination_and_changes_nothing(
    admin_client, workspace, settings
):
    settings.TRIAGE_MAX_ALERTS_PER_INCIDENT = 2
    source = incident_with_alerts(1, workspace=workspace)
    destination = incident_with_alerts(2, workspace=workspace)
    before = snapshot()

    response = add(admin_client, list(alerts_of(source)), destination)

    (message,) = messages_of(response)
    assert "would pass the limit of 2 alerts per incident" in message
    assert snapshot() == before


def test_add_action_refuses_an_alert_already_in_the_destination(admin_client, workspace):
    destination = incident_with_alerts(1, workspace=workspace)
    (alert,) = alerts_of(destination)
    before = snapshot()

    response = add(admin_client, [alert], destination)

    (message,) = messages_of(response)
    assert message == f"Alert “{alert.display_name}” is already in incident #{destination.number}."
    assert snapshot() == before


def test_add_action_refuses_defender_alerts_into_a_defender_incident(admin_client, workspace):
    alert = alert_in(IncidentFactory(workspace=workspace), provider_name=DEFENDER)
    destination = IncidentFactory(workspace=workspace, provider_name=DEFENDER)
    alert_in(destination, provider_name=DEFENDER)
    before = snapshot()

    response = add(admin_client, [alert], destination)

    (message,) = messages_of(response)
    assert message.startswith(f"{DEFENDER} alerts cannot be added to {DEFENDER} incidents here")
    assert snapshot() == before


# --- incident actions ---------------------------------------------------------------


def test_close_action_closes_incidents_as_undetermined_and_logs_each(admin_client, workspace):
    incidents = [incident_with_alerts(1, workspace=workspace) for _ in range(2)]

    response = run_action(admin_client, "close_as_undetermined", incidents)

    for incident in incidents:
        incident.refresh_from_db()
        assert (incident.status, incident.classification) == (
            IncidentStatus.CLOSED,
            Classification.UNDETERMINED,
        )
        (entry,) = activity(incident, ActivityKind.CLOSED)
        assert entry.via == Via.ADMIN
    assert messages_of(response) == [
        f"Closed {', '.join(f'#{i.number}' for i in incidents)} as Undetermined."
    ]


def test_close_action_refuses_a_closed_incident_and_changes_nothing(admin_client, workspace):
    open_incident = incident_with_alerts(1, workspace=workspace)
    closed = incident_with_alerts(1, workspace=workspace)
    actions.close_incident(closed, classification=Classification.UNDETERMINED, actor=INGESTION)
    before = snapshot()

    response = run_action(admin_client, "close_as_undetermined", [open_incident, closed])

    assert messages_of(response) == [
        f"Incident #{closed.number} is already closed. Nothing was changed."
    ]
    assert snapshot() == before


def test_reopen_action_reopens_closed_incidents(admin_client, workspace):
    incident = incident_with_alerts(1, workspace=workspace)
    actions.close_incident(incident, classification=Classification.UNDETERMINED, actor=INGESTION)

    run_action(admin_client, "reopen", [incident])

    incident.refresh_from_db()
    assert (incident.status, incident.classification) == (IncidentStatus.ACTIVE, "")
    assert activity(incident, ActivityKind.REOPENED)


# --- forms that keep the data consistent -----------------------------------------------


def test_entity_form_stores_the_normalized_identifier(admin_client, workspace):
    response = admin_client.post(
        changelist(Entity) + "add/",
        {
            "workspace": workspace.pk,
            "kind": EntityKind.HOST,
            "identifier": "FS01.Contoso.COM",
            "display_name": "FS01",
            "properties": "{}",
        },
    )

    assert response.status_code == 302
    assert Entity.objects.get(workspace=workspace).identifier == "fs01.contoso.com"


def test_entity_page_links_to_the_alerts_that_carry_it(admin_client, data):
    entity = data[Entity]

    page = admin_client.get(admin_url(entity))
    url = changelist(Alert, f"?entities__id__exact={entity.pk}")
    listing = admin_client.get(url)

    assert url.replace("&", "&amp;") in page.text
    assert list(listing.context["cl"].result_list) == [data[Alert]]


def test_entity_form_refuses_a_change_that_duplicates_another_entity(admin_client, workspace):
    EntityFactory(workspace=workspace, identifier="fs01.contoso.com")
    entity = EntityFactory(workspace=workspace, identifier="fs02.contoso.com")
    page = admin_client.get(admin_url(entity))

    response = admin_client.post(
        admin_url(entity), {**form_data(page), "identifier": "FS01.contoso.com"}
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "This workspace already has the Host “fs01.contoso.com”."
    ]
    entity.refresh_from_db()
    assert entity.identifier == "fs02.contoso.com"


def test_alert_form_refuses_entities_of_another_workspace(admin_client, data):
    alert = data[Alert]
    stranger = EntityFactory(workspace=WorkspaceFactory(name="elsewhere"))
    page = admin_client.get(admin_url(alert))

    response = admin_client.post(admin_url(alert), {**form_data(page), "entities": [stranger.pk]})

    assert response.status_code == 200
    assert "not in workspace Soc" in response.context["adminform"].form.errors["entities"][0]
    assert stranger not in alert.entities.all()


def test_alert_form_saves_entities_of_its_workspace(admin_client, data):
    alert = data[Alert]
    entity = EntityFactory(workspace=alert.workspace)
    page = admin_client.get(admin_url(alert))

    response = admin_client.post(admin_url(alert), {**form_data(page), "entities": [entity.pk]})

    assert response.status_code == 302
    assert list(alert.entities.all()) == [entity]


def test_api_tokens_are_revoked_by_the_action_and_never_added_here(admin_client, data):
    token = data[ApiToken]

    response = run_action(admin_client, "revoke", [token])
    add_page = admin_client.get(changelist(ApiToken) + "add/")

    token.refresh_from_db()
    assert token.revoked is not None
    assert messages_of(response) == ["Revoked 1 API token."]
    assert add_page.status_code == 403


# --- query counts ------------------------------------------------------------------

# On PostgreSQL a big changelist first reads the table's estimated size (one more query).
ESTIMATE = 1 if connection.vendor == "postgresql" else 0


@pytest.mark.parametrize("count", [5, 50])
def test_incident_changelist_queries_do_not_grow_with_incidents(
    admin_client, workspace, django_assert_max_num_queries, count
):
    for _ in range(count):
        IncidentFactory(workspace=workspace, owner=UserFactory())

    with django_assert_max_num_queries(6 + ESTIMATE):
        response = admin_client.get(changelist(Incident))

    assert len(response.context["cl"].result_list) == count


@pytest.mark.parametrize("count", [5, 50])
def test_alert_changelist_queries_do_not_grow_with_alerts(
    admin_client, workspace, django_assert_max_num_queries, count
):
    for _ in range(count):
        alert_in(IncidentFactory(workspace=workspace))

    with django_assert_max_num_queries(8 + ESTIMATE):
        response = admin_client.get(changelist(Alert))

    assert len(response.context["cl"].result_list) == count


@pytest.mark.parametrize("model", [Relation, ActivityEntry], ids=lambda m: m.__name__)
@pytest.mark.parametrize("count", [5, 50])
def test_relation_and_activity_changelist_queries_do_not_grow_with_rows(
    admin_client, workspace, django_assert_max_num_queries, model, count
):
    for _ in range(count):
        incident = incident_with_alerts(1, workspace=workspace)
        analyst = Actor.for_user(UserFactory())
        membership.add_alerts(incident, [AlertFactory(workspace=workspace)], actor=analyst)

    with django_assert_max_num_queries(5 + ESTIMATE):
        response = admin_client.get(changelist(model))

    assert len(response.context["cl"].result_list) >= count


@pytest.mark.parametrize("count", [3, 30])
def test_incident_change_page_queries_do_not_grow_with_alerts(
    admin_client, workspace, django_assert_max_num_queries, count
):
    incident = incident_with_alerts(count, workspace=workspace)

    with django_assert_max_num_queries(7):
        response = admin_client.get(admin_url(incident))

    assert len(response.context["inline_admin_formsets"][0].formset.forms) == count


def test_adding_a_workspace_installs_the_default_correlation_rules(admin_client):
    response = admin_client.post(
        reverse("admin:incidents_workspace_add"),
        {
            "name": "lab",
            "display_name": "Lab SOC",
            "subscription_id": "0b9c8a6e-1f2d-4c3b-9a8e-7d6c5b4a3f21",
            "resource_group": "triage",
            "common_entity_share": "0.05",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    workspace = Workspace.objects.get(name="lab")
    names = list(workspace.correlation_rules.values_list("name", flat=True))
    assert names == [rule["name"] for rule in DEFAULT_RULES]
