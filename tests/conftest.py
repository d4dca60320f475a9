import os

import pytest
from django.core.cache import cache
from django.db import connection

from incidents.activity import Actor
from incidents.models import Role
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory

# Playwright's sync API runs an event loop in the test thread; Django's ORM must
# still be usable from it (only for the browser tests' live server).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _empty_cache():
    # Throttles count in the cache: one test's failures must not throttle the next.
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The real hasher costs ~0.3 s a user; tests check behaviour, not key stretching.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_collection_modifyitems(config, items):
    for item in items:
        for marker, vendor in (("postgres", "postgresql"), ("sqlite", "sqlite")):
            if item.get_closest_marker(marker) and connection.vendor != vendor:
                item.add_marker(pytest.mark.usefixtures(f"_refuse_without_{marker}"))


@pytest.fixture
def _refuse_without_postgres():
    pytest.fail(
        "This test needs PostgreSQL: run it with DATABASE_URL=postgres://… "
        "(make test does), or deselect it with -m 'not postgres'."
    )


@pytest.fixture
def _refuse_without_sqlite():
    pytest.fail("This test is about SQLite: deselect it on PostgreSQL with -m 'not sqlite'.")


@pytest.fixture
def workspace(db):
    return WorkspaceFactory(name="soc")


@pytest.fixture
def responder(workspace):
    user = UserFactory(username="responder")
    MembershipFactory(workspace=workspace, user=user, role=Role.RESPONDER)
    return user


@pytest.fixture
def reader(workspace):
    user = UserFactory(username="reader")
    MembershipFactory(workspace=workspace, user=user, role=Role.READER)
    return user


@pytest.fixture
def outsider(db):
    """A member of another workspace only."""
    user = UserFactory(username="outsider")
    MembershipFactory(workspace=WorkspaceFactory(name="elsewhere"), user=user)
    return user


@pytest.fixture
def actor(responder):
    return Actor.for_user(responder)


@pytest.fixture
def other_workspace(db):
    """A second tenant; its alerts and incidents never mix with `workspace`'s."""
    return WorkspaceFactory(name="branch-office")


@pytest.fixture
def rule_actor(db):
    """An automation rule acting on its own (no user)."""
    return Actor.system("Automation rule: Brute force grouping")
