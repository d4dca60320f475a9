"""Logging in and out, and the current workspace."""

from incidents.models import Role
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory


def test_the_login_page_looks_like_the_app(client, db):
    html = client.get("/accounts/login/").content.decode()
    assert "Sign in to Triage" in html
    assert "css/triage.css" in html


def test_logging_in_leads_to_the_queue(client, responder):
    response = client.post(
        "/accounts/login/",
        {"username": "responder", "password": "correct horse battery staple"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/incidents/"


def test_logging_out_is_a_post(client, responder):
    client.force_login(responder)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/incidents/").status_code == 302


def test_the_first_workspace_by_name_is_the_default(client, db):
    user = UserFactory(username="multi")
    MembershipFactory(user=user, workspace=WorkspaceFactory(name="beta"), role=Role.READER)
    MembershipFactory(user=user, workspace=WorkspaceFactory(name="alpha"), role=Role.READER)
    client.force_login(user)
    html = client.get("/incidents/").content.decode()
    assert '<option value="alpha" selected>' in html


def test_switching_workspace(client, db):
    user = UserFactory(username="multi")
    MembershipFactory(user=user, workspace=WorkspaceFactory(name="beta"), role=Role.READER)
    MembershipFactory(user=user, workspace=WorkspaceFactory(name="alpha"), role=Role.READER)
    client.force_login(user)
    response = client.post("/workspace/", {"workspace": "beta"})
    assert response.status_code == 302
    assert response["Location"] == "/incidents/"
    assert '<option value="beta" selected>' in client.get("/incidents/").content.decode()


def test_switching_to_a_workspace_one_is_not_a_member_of(client, responder, outsider):
    client.force_login(responder)
    assert client.post("/workspace/", {"workspace": "elsewhere"}).status_code == 404


def test_switching_is_a_post(client, responder):
    client.force_login(responder)
    assert client.get("/workspace/").status_code == 405


def test_a_single_workspace_has_no_switcher(client, responder):
    client.force_login(responder)
    html = client.get("/incidents/").content.decode()
    assert '<select id="workspace-select"' not in html
    assert "Soc" in html
