"""The security log (`audit`): sign-ins, failures, lockouts, tokens, roles and rule changes,
who did it and from where; append-only, and read by superusers only in the admin."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test import Client

from audit.models import EventKind, SecurityEvent
from incidents.api.tokens import create_token
from incidents.models import ApiToken, Membership, Role
from incidents.rules import changes
from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"
ADDRESS = "203.0.113.7"


def events(kind: EventKind) -> list[SecurityEvent]:
    return list(SecurityEvent.objects.filter(kind=kind).order_by("pk"))


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", "", PASSWORD)


@pytest.fixture
def admin_client(superuser) -> Client:
    client = Client(REMOTE_ADDR=ADDRESS)
    client.force_login(superuser)
    return client


def sign_in(client: Client, username: str, password: str, **extra):
    data = {"username": username, "password": password}
    return client.post("/accounts/login/", data, REMOTE_ADDR=ADDRESS, **extra)


# --- sign-ins ------------------------------------------------------------------


def test_a_sign_in_is_recorded_with_who_and_from_where(client, responder):
    sign_in(client, "responder", PASSWORD)

    [event] = events(EventKind.SIGNED_IN)
    assert (event.actor, event.actor_name, event.address) == (responder, "responder", ADDRESS)
    assert event.message == "responder signed in."


def test_a_failed_sign_in_is_recorded_with_the_username_tried(client, responder):
    sign_in(client, "responder", "wrong")

    [event] = events(EventKind.SIGN_IN_FAILED)
    assert (event.actor, event.actor_name, event.address) == (None, "responder", ADDRESS)
    assert "wrong" not in event.message


def test_a_huge_username_is_cut_to_a_usernames_length(client, db):
    sign_in(client, "x" * 100_000, "wrong")

    [event] = events(EventKind.SIGN_IN_FAILED)
    assert len(event.actor_name) == 150
    assert len(event.message) < 200


def test_a_lockout_is_recorded(client, responder, settings):
    settings.AXES_FAILURE_LIMIT = 2
    sign_in(client, "responder", "wrong")
    sign_in(client, "responder", "wrong")

    [event] = events(EventKind.LOCKED_OUT)
    assert (event.actor_name, event.address) == ("responder", ADDRESS)
    assert "locked out" in event.message


def test_a_sign_out_is_recorded(client, responder):
    client.force_login(responder)
    client.post("/accounts/logout/", REMOTE_ADDR=ADDRESS)

    [event] = events(EventKind.SIGNED_OUT)
    assert (event.actor, event.address) == (responder, ADDRESS)


def test_behind_a_trusted_proxy_the_address_is_the_one_the_proxy_saw(client, responder, settings):
    settings.TRIAGE_PROXY_COUNT = 1
    sign_in(client, "responder", PASSWORD, HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.23")

    [event] = events(EventKind.SIGNED_IN)
    assert event.address == "198.51.100.23"


def test_without_a_trusted_proxy_a_forwarded_for_header_is_ignored(client, responder):
    sign_in(client, "responder", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.23")

    [event] = events(EventKind.SIGNED_IN)
    assert event.address == ADDRESS


# --- API tokens ------------------------------------------------------------------


def test_a_token_made_on_the_command_line_is_recorded(responder, workspace, capsys):
    call_command("create_api_token", "responder", "--name", "soar")

    token = ApiToken.objects.get()
    [event] = events(EventKind.TOKEN_CREATED)
    assert (event.actor, event.actor_name, event.address) == (None, "command line", None)
    assert event.details == {
        "token": token.prefix,
        "user": "responder",
        "workspace": None,
        "scope": "all",
    }
    assert capsys.readouterr().out.strip() not in str(event.details)


def test_a_token_revoked_in_the_admin_is_recorded(admin_client, superuser, responder):
    token, _ = create_token(responder)

    admin_client.post(
        "/admin/incidents/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
    )

    token.refresh_from_db()
    assert token.revoked is not None
    [event] = events(EventKind.TOKEN_REVOKED)
    assert (event.actor, event.address) == (superuser, ADDRESS)
    assert event.details["token"] == token.prefix


# --- roles -----------------------------------------------------------------------


def test_a_role_changed_in_the_admin_is_recorded(admin_client, superuser, responder, workspace):
    membership = Membership.objects.get(user=responder)

    response = admin_client.post(
        f"/admin/incidents/membership/{membership.pk}/change/",
        {"workspace": workspace.pk, "user": responder.pk, "role": Role.CONTRIBUTOR},
    )

    assert response.status_code == 302
    [event] = events(EventKind.ROLE_CHANGED)[-1:]
    assert (event.actor, event.address) == (superuser, ADDRESS)
    assert event.details == {
        "user": "responder",
        "workspace": "soc",
        "role": [Role.RESPONDER, Role.CONTRIBUTOR],
    }


def test_saving_a_membership_without_a_new_role_records_nothing(responder):
    before = SecurityEvent.objects.count()

    Membership.objects.get(user=responder).save()

    assert SecurityEvent.objects.count() == before


def test_joining_and_leaving_a_workspace_are_recorded(workspace):
    user = UserFactory(username="newcomer")
    membership = Membership.objects.create(workspace=workspace, user=user, role=Role.READER)
    membership.delete()

    joined, left = events(EventKind.ROLE_CHANGED)[-2:]
    assert joined.details["role"] == [None, Role.READER]
    assert left.details["role"] == [Role.READER, None]
    assert "removed from workspace soc" in left.message


# --- correlation rules ------------------------------------------------------------


def test_a_rule_change_is_recorded_with_its_author(workspace, responder):
    rule = changes.create_rule(workspace, {"name": "Same host"}, acting_user=responder)

    [event] = events(EventKind.RULE_CHANGED)[-1:]
    assert (event.actor, event.actor_name) == (responder, "responder")
    assert event.details["rule"] == rule.pk
    assert event.details["rule_change"] == rule.changes.get().pk
    assert "Same host" in event.message


# --- append-only -------------------------------------------------------------------


@pytest.fixture
def event(client, responder):
    sign_in(client, "responder", PASSWORD)
    return SecurityEvent.objects.get(kind=EventKind.SIGNED_IN, actor=responder)


def test_an_event_cannot_be_saved_again(event):
    event.message = "Rewritten."

    with pytest.raises(TypeError, match="append-only"):
        event.save()

    assert SecurityEvent.objects.get(pk=event.pk).message == "responder signed in."


def test_a_new_event_with_an_existing_primary_key_does_not_overwrite_it(event):
    forged = SecurityEvent(pk=event.pk, kind=EventKind.SIGNED_IN, actor_name="x", message="F.")

    with pytest.raises(IntegrityError), transaction.atomic():
        forged.save()

    assert SecurityEvent.objects.get(pk=event.pk).message == "responder signed in."


def test_events_cannot_be_deleted_or_updated_through_the_orm(event):
    with pytest.raises(TypeError, match="append-only"):
        event.delete()
    with pytest.raises(TypeError, match="append-only"):
        SecurityEvent.objects.all().delete()
    with pytest.raises(TypeError, match="append-only"):
        SecurityEvent.objects.filter(pk=event.pk).update(message="Rewritten.")

    assert SecurityEvent.objects.get(pk=event.pk).message == "responder signed in."


def test_the_database_refuses_to_update_an_event(event):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_securityevent SET message = 'Rewritten.' WHERE id = %s", [event.pk]
        )

    assert SecurityEvent.objects.get(pk=event.pk).message == "responder signed in."


@pytest.mark.postgres
def test_postgresql_refuses_to_delete_an_event(event):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_securityevent WHERE id = %s", [event.pk])

    assert SecurityEvent.objects.filter(pk=event.pk).exists()


# --- the admin ----------------------------------------------------------------------


def test_a_superuser_reads_the_log_in_the_admin(admin_client, event):
    response = admin_client.get("/admin/audit/securityevent/")

    assert response.status_code == 200
    assert "responder signed in." in response.text


def test_nobody_adds_changes_or_deletes_events_in_the_admin(admin_client, event):
    assert admin_client.get("/admin/audit/securityevent/add/").status_code == 403
    assert admin_client.get(f"/admin/audit/securityevent/{event.pk}/delete/").status_code == 403
    response = admin_client.post(
        f"/admin/audit/securityevent/{event.pk}/change/", {"message": "Rewritten."}
    )
    assert response.status_code == 403
    assert SecurityEvent.objects.get(pk=event.pk).message == "responder signed in."


def test_staff_who_are_not_superusers_do_not_see_the_log(event):
    staff = UserFactory(username="staff", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="audit"))
    client = Client()
    client.force_login(staff)

    assert client.get("/admin/audit/securityevent/").status_code == 403
    assert "Security log" not in client.get("/admin/").text
