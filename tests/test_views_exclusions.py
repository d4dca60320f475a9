"""The entity panel's correlation card: exclude a value from correlation, allow it again."""

import datetime as dt
from html import unescape

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.timezone import localtime

from incidents.models import Alert, CorrelationExclusion, EntityKind, Role
from tests.factories import (
    AlertFactory,
    EntityFactory,
    IncidentFactory,
    MembershipFactory,
    UserFactory,
    alert_in,
)

EXCLUDE, ALLOW = "exclude", "allow"


@pytest.fixture
def contributor(workspace):
    user = UserFactory(username="carol")
    MembershipFactory(workspace=workspace, user=user, role=Role.CONTRIBUTOR)
    return user


@pytest.fixture
def incident(workspace):
    return IncidentFactory(workspace=workspace)


@pytest.fixture
def entity(workspace, incident):
    host = EntityFactory(
        workspace=workspace, kind=EntityKind.HOST, identifier="dc01", display_name="DC01"
    )
    alert_in(incident).entities.add(host)
    return host


def url(incident, entity, action: str) -> str:
    return f"/incidents/{incident.number}/entities/{entity.pk}/{action}/"


def panel(client, incident, entity) -> str:
    return client.get(f"/incidents/{incident.number}/entities/{entity.pk}/").content.decode()


def exclude(workspace, entity, user, reason="Domain controller") -> CorrelationExclusion:
    return CorrelationExclusion.objects.create(
        workspace=workspace, entity=entity, created_by=user, reason=reason
    )


# --- excluding -------------------------------------------------------------------


def test_a_contributor_excludes_a_value_without_javascript(
    client, contributor, workspace, incident, entity
):
    client.force_login(contributor)

    response = client.post(url(incident, entity, EXCLUDE), {"reason": " Domain controller "})

    assert response.status_code == 302
    assert response["Location"] == f"/incidents/{incident.number}/entities/{entity.pk}/"
    exclusion = CorrelationExclusion.objects.get()
    assert (exclusion.workspace, exclusion.entity, exclusion.created_by, exclusion.reason) == (
        workspace,
        entity,
        contributor,
        "Domain controller",
    )
    assert (
        "DC01 no longer joins alerts by itself."
        in client.get(response["Location"]).content.decode()
    )


def test_htmx_gets_the_card_back_saying_who_excluded_it(client, contributor, incident, entity):
    client.force_login(contributor)

    response = client.post(
        url(incident, entity, EXCLUDE),
        {"reason": "Domain controller"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="panel-card" id="entity-correlation"')
    assert "Excluded from correlation by carol on" in html
    assert "“Domain controller”" in html
    assert "Allow correlation again" in html


def test_the_reason_is_optional(client, contributor, incident, entity):
    client.force_login(contributor)
    client.post(url(incident, entity, EXCLUDE), {})
    assert CorrelationExclusion.objects.get().reason == ""


def test_excluding_twice_keeps_the_first_exclusion(
    client, contributor, workspace, incident, entity
):
    client.force_login(contributor)
    client.post(url(incident, entity, EXCLUDE), {"reason": "first"})
    client.post(url(incident, entity, EXCLUDE), {"reason": "second"})
    assert list(CorrelationExclusion.objects.values_list("reason", flat=True)) == ["first"]


def test_a_too_long_reason_is_refused_and_shown(client, contributor, incident, entity):
    client.force_login(contributor)

    response = client.post(
        url(incident, entity, EXCLUDE), {"reason": "x" * 501}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert "at most 500 characters" in response.content.decode()
    assert not CorrelationExclusion.objects.exists()
    redirected = client.post(url(incident, entity, EXCLUDE), {"reason": "x" * 501}, follow=True)
    assert "at most 500 characters" in redirected.content.decode()
    assert not CorrelationExclusion.objects.exists()


# --- allowing again ----------------------------------------------------------------


def test_a_contributor_allows_correlation_again(client, contributor, workspace, incident, entity):
    exclude(workspace, entity, contributor)
    client.force_login(contributor)

    response = client.post(url(incident, entity, ALLOW), headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert not CorrelationExclusion.objects.exists()
    html = response.content.decode()
    assert "DC01 is no longer excluded from correlation." in html
    assert "Exclude from correlation" in html


def test_allowing_twice_is_harmless(client, contributor, workspace, incident, entity):
    exclude(workspace, entity, contributor)
    client.force_login(contributor)
    assert client.post(url(incident, entity, ALLOW)).status_code == 302
    assert client.post(url(incident, entity, ALLOW)).status_code == 302
    assert not CorrelationExclusion.objects.exists()


def test_allowing_leaves_other_workspaces_exclusions(
    client, contributor, workspace, other_workspace, incident, entity
):
    exclude(workspace, entity, contributor)
    elsewhere = exclude(other_workspace, entity, None)
    client.force_login(contributor)
    client.post(url(incident, entity, ALLOW))
    assert list(CorrelationExclusion.objects.all()) == [elsewhere]


# --- who may -------------------------------------------------------------------------


@pytest.mark.parametrize("action", [EXCLUDE, ALLOW])
def test_it_needs_post(client, contributor, incident, entity, action):
    client.force_login(contributor)
    assert client.get(url(incident, entity, action)).status_code == 405


@pytest.mark.parametrize("action", [EXCLUDE, ALLOW])
@pytest.mark.parametrize("role", [Role.READER, Role.RESPONDER])
def test_it_requires_the_contributor_role(client, workspace, incident, entity, action, role):
    user = UserFactory()
    MembershipFactory(workspace=workspace, user=user, role=role)
    existing = exclude(workspace, entity, None) if action == ALLOW else None
    client.force_login(user)

    assert client.post(url(incident, entity, action), {"reason": "x"}).status_code == 403
    assert list(CorrelationExclusion.objects.all()) == ([existing] if existing else [])


@pytest.mark.parametrize("action", [EXCLUDE, ALLOW])
def test_it_rejects_another_workspace(client, outsider, incident, entity, action):
    client.force_login(outsider)
    assert client.post(url(incident, entity, action)).status_code == 404
    assert not CorrelationExclusion.objects.exists()


@pytest.mark.parametrize("action", [EXCLUDE, ALLOW])
def test_an_entity_of_another_workspace_is_not_found(
    client, contributor, other_workspace, incident, action
):
    stranger = EntityFactory(workspace=other_workspace, identifier="dc01")
    client.force_login(contributor)
    assert client.post(url(incident, stranger, action)).status_code == 404
    assert not CorrelationExclusion.objects.exists()


def test_it_needs_login(client, incident, entity):
    assert client.post(url(incident, entity, EXCLUDE)).status_code == 302
    assert not CorrelationExclusion.objects.exists()


def test_it_needs_the_csrf_token(contributor, incident, entity):
    client = Client(enforce_csrf_checks=True)
    client.force_login(contributor)
    assert client.post(url(incident, entity, EXCLUDE)).status_code == 403
    assert not CorrelationExclusion.objects.exists()


# --- the panel ---------------------------------------------------------------------


def test_the_panel_says_who_excluded_a_value_when_and_why(
    client, reader, contributor, workspace, incident, entity
):
    exclusion = exclude(workspace, entity, contributor)
    client.force_login(reader)

    html = panel(client, incident, entity)

    assert "Excluded from correlation by carol on" in html
    assert f'<time datetime="{localtime(exclusion.created):%Y-%m-%dT%H:%M:%S}' in html
    assert "“Domain controller”" in html
    # Readers see why, not the buttons.
    assert "Allow correlation again" not in html
    assert "Exclude from correlation" not in html


def test_the_panel_says_when_the_guard_finds_a_value_too_common(
    client, contributor, workspace, incident, entity
):
    now = timezone.now()
    # In 25 of the workspace's 26 alerts of the last 7 days, far above the 5% share.
    alerts = AlertFactory.create_batch(24, workspace=workspace, time_generated=now)
    Alert.objects.filter(entities=entity).update(time_generated=now)
    AlertFactory(workspace=workspace, time_generated=now - dt.timedelta(days=1))
    AlertFactory(workspace=workspace, time_generated=now - dt.timedelta(days=8))
    entity.alerts.add(*alerts)
    client.force_login(contributor)

    html = unescape(panel(client, incident, entity))

    assert (
        "Too common to correlate on (automatic guard): in 25 of the workspace's 26 alerts "
        "of the last 7 days" in html
    )
    # An analyst may still exclude it for good, whatever the share becomes.
    assert "Exclude from correlation" in html
    assert "Allow correlation again" not in html


def test_the_panel_says_a_value_may_correlate(client, contributor, incident, entity):
    client.force_login(contributor)
    html = panel(client, incident, entity)
    assert "Correlation rules may join alerts that share this value." in html
    assert "Exclude from correlation" in html
