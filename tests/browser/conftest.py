"""Browser tests: Playwright drives the Debian Chromium against pytest-django's live server."""

import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import OperationalError, connections
from django.db import connection as db_connection
from django.db.backends.signals import connection_created
from django.test import Client
from django.test.testcases import LiveServerThread
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, Route

from incidents.models import Role
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory

CHROMIUM = "/usr/bin/chromium"
# What the app must work under: no inline script or style, no eval, nothing from elsewhere.
STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
    "frame-ancestors 'none'"
)
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


# Reentrant: a request holds it while its own queries take it again.
TURN = threading.RLock()
# 5 s in all, as long as SQLite's own busy timeout.
LOCKED_RETRIES = 100


def one_query_at_a_time(execute, sql, params, many, context):
    """Each query of the test process on SQLite waits for the request being answered;
    SQLite's "table is locked" is tried again a little later, as a database file's busy
    timeout would (a shared in-memory database answers it at once)."""
    for attempt in range(LOCKED_RETRIES):
        with TURN:
            try:
                return execute(sql, params, many, context)
            except OperationalError as error:
                if "is locked" not in str(error) or attempt == LOCKED_RETRIES - 1:
                    raise
        time.sleep(0.05)


def _take_turns(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite" and one_query_at_a_time not in connection.execute_wrappers:
        connection.execute_wrappers.append(one_query_at_a_time)


class OneRequestAtATime(ThreadedWSGIServer):
    """The live server, answering one request at a time on SQLite.

    The test database is in memory, shared (`cache=shared`) between the test's connection
    and one connection per request thread. SQLite locks a table for one connection's
    statement or transaction and answers the others "database table is locked" at once:
    a typeahead search still in flight while Save posts, or a test reading the database
    while the page's last request is answered, failed now and then (a 500 the tests
    report as a browser error). So each request is handled whole, its body included,
    under `TURN`, and every query of the process (the test's, its teardown's, each
    request thread's) takes `TURN` too. Connections stay threaded, so a browser's idle
    keep-alive connection holds nothing. On PostgreSQL requests run side by side as in
    production.
    """

    def set_app(self, application):
        if db_connection.vendor != "sqlite":
            return super().set_app(application)
        connection_created.connect(_take_turns, weak=False)
        for connection in connections.all(initialized_only=True):
            _take_turns(None, connection)
        _take_turns(None, MAIN_THREAD_CONNECTION)

        def one_at_a_time(environ, start_response):
            with TURN:
                response = application(environ, start_response)
                try:
                    return [b"".join(response)]
                finally:
                    if hasattr(response, "close"):
                        response.close()

        return super().set_app(one_at_a_time)


LiveServerThread.server_class = OneRequestAtATime
# The test thread's connection (the server starts in a thread of its own).
MAIN_THREAD_CONNECTION = connections["default"]


@pytest.fixture(scope="session")
def base_url() -> None:
    # Replaces pytest-base-url's fixture, which warns under pytest 9; pages use live_server.url.
    return None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # The system Chromium, never a downloaded one: `playwright install` is not an option here.
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 800}}


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def workspace(transactional_db):
    return WorkspaceFactory(name="soc")


@pytest.fixture
def responder(workspace):
    user = UserFactory(username="responder")
    MembershipFactory(workspace=workspace, user=user, role=Role.RESPONDER)
    return user


REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} (${event.blockedURI || "inline"})`);
});
"""

# htmx logs an aborted request (a page left while a list refreshes) as an error; it is not one.
ABORTED = ("htmx:sendAbort", "htmx:afterRequest")


def _with_strict_csp(route: Route) -> None:
    try:
        response = route.fetch()
        route.fulfill(
            response=response, headers={**response.headers, "content-security-policy": STRICT_CSP}
        )
    except PlaywrightError:
        pass  # The page or its context closed while the request was on its way.


def signed_in_as(page: Page, live_server, user):
    """`page` signed in as `user`, under a strict CSP; console errors fail the test."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
    )
    page.route("**/*", _with_strict_csp)
    # Every violation fails the test, whether or not Chromium also logs it to the console.
    page.add_init_script(REPORT_CSP_VIOLATIONS)
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(10_000)
    in_flight: set = set()
    page.on("request", lambda request: in_flight.add(request))
    page.on("requestfinished", lambda request: in_flight.discard(request))
    page.on("requestfailed", lambda request: in_flight.discard(request))
    yield page
    _settle(page, in_flight)
    page.unroute_all(behavior="ignoreErrors")
    errors = [e for e in errors if not e.startswith(ABORTED)]
    assert errors == [], "the browser reported errors (a CSP violation, a failed request…)"


def _settle(page: Page, in_flight: set) -> None:
    """Let the requests still under way finish, then leave the page so nothing new starts
    (an htmx load or refresh): a request being answered holds table locks, and the test
    database's flush after the test would deadlock with it on PostgreSQL."""
    if page.is_closed():
        return
    for _ in range(100):
        if not in_flight:
            break
        page.wait_for_timeout(50)
    page.goto("about:blank")


@pytest.fixture
def signed_in(page: Page, live_server, responder):
    """The page, signed in as the responder (see `signed_in_as`)."""
    yield from signed_in_as(page, live_server, responder)
