"""The access matrix (#13): every route of the URLconf, for every role, on its own workspace's
objects and on another's.

Routes are read from the URLconf, so a route added later fails `test_every_route_has_an_
expectation` until EXPECTED says who may use it. Each role's world is built once and every
request runs in a savepoint that is rolled back, so one request never sees another's change.
Refused writes (and anything by someone outside the workspace the URL names) must leave that
workspace's rows as they were.

Roles: anonymous; outsider (signed in, no membership); other (contributor of another
workspace only, asking for this one's objects); reader, responder and contributor of the
workspace; foreign (a contributor of the workspace asking for another workspace's objects,
one at a time within an address otherwise their own: their incident, the other's entity);
staff (may sign in to the admin, has no permission and no membership); a superuser (every
admin page but what the design keeps out of it: SUPERUSER_ADMIN).
"""

import json
import re
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from django.urls import URLResolver, get_resolver

from incidents import actions, membership
from incidents.activity import Actor
from incidents.api.tokens import create_token
from incidents.models import (
    ROLE_RANK,
    ActivityEntry,
    Alert,
    ApiToken,
    CorrelationExclusion,
    CorrelationRule,
    Entity,
    Incident,
    Membership,
    MembershipChange,
    Relation,
    Role,
    RuleChange,
    Workspace,
)
from tests.factories import (
    EntityFactory,
    MembershipFactory,
    UserFactory,
    WorkspaceFactory,
    incident_with_alerts,
)

API_VERSION = "api-version=2022-07-01-preview"

ANONYMOUS, OUTSIDER, OTHER = "anonymous", "outsider", "other"
STAFF, SUPERUSER = "staff", "superuser"
READER, RESPONDER, CONTRIBUTOR, FOREIGN = "reader", "responder", "contributor", "foreign"
ROLES = [ANONYMOUS, OUTSIDER, OTHER, READER, RESPONDER, CONTRIBUTOR, FOREIGN, STAFF, SUPERUSER]
# Signed in without a membership: the outsider, and staff (admin access, no permissions).
NO_MEMBERSHIP = {OUTSIDER, STAFF, SUPERUSER}
# Outside the workspace the URL names: they may change nothing there, whatever they send.
STRANGERS = {ANONYMOUS, OUTSIDER, OTHER, FOREIGN, STAFF}
REFUSALS = {"login", "admin-login", "no-workspace", "401", "403", "404", "405"}

PUBLIC = "public"  # anyone, signed in or not
SIGNED_IN = "signed-in"  # any signed-in user (API: any token)
R, S, C = Role.READER, Role.RESPONDER, Role.CONTRIBUTOR


@dataclass(frozen=True)
class Expect:
    """Who may use a route, per method: a role (the least that may), PUBLIC or SIGNED_IN;
    a method not listed is refused with 405. `area` says how refusals look:

    - web: anonymous → sign-in page; outsider → "no workspace" page; someone outside the
      workspace the URL names → 404; a role too low → 403.
    - api: no token → 401; not a member of the path's workspace → 404; role too low → 403.
    - auth: Django's own sign-in views (SIGNED_IN → anonymous sent to sign in).
    - admin: every page sends non-staff to the admin's sign-in page; staff without
      permissions get the admin's own pages and 403 on every model's (STAFF_ADMIN).
    - fixed: `outcomes` gives the answer per method, the same for every role.

    `data` is the body of a write that would change something if it were allowed, built
    from the world whose objects the URL names; `names_objects` when that body (not the
    URL) names them; `values` picks other objects of that world for the URL's parameters."""

    area: str
    methods: dict = field(default_factory=dict)
    data: object = None
    outcomes: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)
    names_objects: bool = False
    # Parameters whose object, when another workspace's, the view explains (with the words
    # it uses for one that does not exist) instead of answering 404.
    explains_unknown: tuple = ()


def web(get=None, post=None, data=None, names_objects=False, explains=(), **values) -> Expect:
    return Expect(
        "web",
        {"GET": get, "POST": post},
        data,
        values=values,
        names_objects=names_objects,
        explains_unknown=explains,
    )


def api(data=None, **methods) -> Expect:
    return Expect("api", methods, data)


def fixed(**outcomes) -> Expect:
    return Expect("fixed", outcomes=outcomes)


def comment(w) -> dict:
    return {"comment": "Looked at it", "reason": "Matrix"}


ADMIN = Expect("admin")
EXPECTED: dict[str, Expect] = {
    # --- web pages and their htmx fragments (incidents.urls) ---------------------------
    "incidents:home": fixed(GET="ok", POST="ok"),
    "incidents:switch_workspace": web(
        post=R, data=lambda w: {"workspace": w["workspace"]}, names_objects=True
    ),
    "incidents:incident_list": web(get=R),
    "incidents:incident_search": web(get=R),
    "incidents:merge_incidents": web(
        get=S,
        post=S,
        data=lambda w: {"incident": w["numbers"], "into": w["number"], "reason": "Matrix"},
    ),
    "incidents:bulk_incidents": web(
        get=S,
        post=S,
        data=lambda w: {"action": "label", "incident": w["numbers"], "label": "matrix"},
    ),
    "incidents:incident": web(get=R),
    "incidents:incident_alerts": web(get=R),
    "incidents:incident_alert_rows": web(get=R),
    "incidents:add_alert": web(
        get=S,
        post=S,
        data=lambda w: {"other_incident": "keep"},
        explains=("system_alert_id",),
        system_alert_id="outside",
    ),
    "incidents:remove_alert": web(
        get=S, post=S, data=lambda w: {"reason": "Matrix"}, explains=("system_alert_id",)
    ),
    "incidents:incident_entities": web(get=R),
    "incidents:incident_entity": web(get=R),
    "incidents:exclude_entity": web(post=C, data=lambda w: {"reason": "Matrix"}),
    "incidents:allow_entity": web(post=C),
    "incidents:incident_graph": web(get=R),
    "incidents:incident_graph_json": web(get=R),
    "incidents:graph_related_alerts": web(get=R),
    "incidents:graph_related_incidents": web(get=R),
    "incidents:incident_activity": web(get=R),
    "incidents:incident_similar": web(get=R),
    "incidents:incident_panel": web(get=R),
    "incidents:assign_owner": web(get=S, post=S, data=lambda w: {"owner": ""}),
    "incidents:change_status": web(post=S, data=lambda w: {"status": "Active"}),
    "incidents:change_severity": web(post=S, data=lambda w: {"severity": "High"}),
    "incidents:add_label": web(post=S, data=lambda w: {"label": "matrix"}),
    "incidents:remove_label": web(post=S, data=lambda w: {"label": "existing"}),
    "incidents:close_incident": web(
        get=S, post=S, data=lambda w: {"classification": "FalsePositive:InaccurateData"}
    ),
    "incidents:reopen_incident": web(post=S, number="closed"),
    "incidents:add_comment": web(get=S, post=S, data=comment),
    "incidents:alert_list": web(get=R),
    "incidents:link_alerts": web(
        get=S,
        post=S,
        data=lambda w: {"alert": [w["system_alert_id"]], "target": "new", "comment": "Matrix"},
    ),
    "incidents:alert": web(get=R),
    "incidents:undo_change": web(post=S),
    "incidents:rules": web(get=R),
    "incidents:rule_new": web(get=C, post=C, data=lambda w: {"name": "Matrix", "window": "2h"}),
    "incidents:rules_test": web(get=R),
    "incidents:rule": web(get=R),
    "incidents:rule_edit": web(get=C, post=C, data=lambda w: {"name": "Renamed", "window": "2h"}),
    "incidents:rule_toggle": web(post=C, data=lambda w: {"enabled": "off"}),
    "incidents:rule_move": web(post=C, data=lambda w: {"position": "2"}),
    "incidents:rule_test": web(get=R),
    # --- the API (incidents.api.urls) ------------------------------------------------
    "api:workspaces": api(GET=SIGNED_IN),
    "api:ingest": api(POST=C, data=lambda w: [{"AlertName": "Matrix"}]),
    "api:schema": fixed(GET="ok", POST="405"),
    "api:docs": fixed(GET="ok", POST="405"),
    "api:incident_list": api(GET=R),
    "api:incident": api(GET=R),
    "api:relation_list": api(GET=R),
    "api:relation": api(
        GET=R,
        PUT=S,
        DELETE=S,
        data=lambda w: {"properties": {"relatedResourceId": w["outside_resource_id"]}},
    ),
    "api:incident_merge": api(
        POST=S,
        data=lambda w: {"properties": {"sourceIncidentIds": [w["second_uuid"]], "reason": "M"}},
    ),
    # Sentinel's "list alerts" and "list entities" are POSTs that read.
    "api:incident_alerts": api(POST=R),
    "api:incident_entities": api(POST=R),
    "api:comment_list": api(GET=R),
    "api:comment": api(GET=R, PUT=S, data=lambda w: {"properties": {"message": "Matrix"}}),
    # --- Django's sign-in views (django.contrib.auth.urls) ---------------------------
    "login": fixed(GET="ok", POST="ok"),
    "logout": fixed(GET="405", POST="ok"),
    "password_change": Expect("auth", {"GET": SIGNED_IN, "POST": SIGNED_IN}),
    "password_change_done": Expect("auth", {"GET": SIGNED_IN}),
    # Routed only when e-mail is configured (#13 item 9); public when they are.
    "password_reset": fixed(GET="ok", POST="ok"),
    "password_reset_done": fixed(GET="ok", POST="405"),
    "password_reset_confirm": fixed(GET="ok", POST="ok"),
    "password_reset_complete": fixed(GET="ok", POST="405"),
    # --- the admin (the rest: `expectation`) ------------------------------------------
    "admin:login": fixed(GET="ok", POST="ok"),
    # Django's admin answers a GET with its index (which sends them to sign in).
    "admin:logout": fixed(GET="ok", POST="ok"),
    "favicon.ico": fixed(GET="ok", POST="ok"),
}


def expectation(name: str) -> Expect | None:
    if name in EXPECTED:
        return EXPECTED[name]
    # Every other admin page (one set per registered model, and any custom admin view)
    # must send non-staff users to the admin's sign-in page.
    if name.startswith(("admin:", "admin/")):
        return ADMIN
    return None


@dataclass(frozen=True)
class Route:
    name: str  # the URL name, namespaced; the pattern for unnamed routes
    pattern: str
    params: tuple[str, ...]

    @property
    def names_objects(self) -> bool:
        """Whether the URL names objects of a workspace (so outsiders get 404)."""
        return bool(set(self.params) & OBJECT_PARAMS)


OBJECT_PARAMS = {
    "number",
    "system_alert_id",
    "entity_id",
    "rule_id",
    "change",
    "workspace_name",
    "subscription_id",
}
PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def routes() -> list[Route]:
    found = []

    def walk(patterns, prefix: str, namespace: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = ":".join(filter(None, [namespace, p.namespace]))
                walk(p.url_patterns, prefix + str(p.pattern), ns)
                continue
            pattern = prefix + str(p.pattern)
            name = ":".join(filter(None, [namespace, p.name])) if p.name else pattern
            params = tuple(a or b for a, b in PARAM.findall(pattern))
            found.append(Route(name, pattern, params))

    walk(get_resolver().url_patterns, "", "")
    return found


def url_of(route: Route, values: dict) -> str:
    def value(match: re.Match) -> str:
        param = match[1] or match[2]
        assert param in values, f"{route.name}: no sample value for <{param}>; add one to world()"
        return str(values[param])

    return "/" + PARAM.sub(value, route.pattern).replace("^", "").replace("$", "")


def test_every_route_has_an_expectation():
    missing = [r.name for r in routes() if expectation(r.name) is None]
    assert not missing, f"Routes with no entry in EXPECTED (say who may use them): {missing}"


# --- the worlds ----------------------------------------------------------------------


def world(workspace: Workspace, first: int) -> dict:
    """A workspace's objects, numbered from `first` so that no incident number of one
    workspace exists in the other (numbers are per workspace)."""
    actor = Actor.system("Matrix")
    incident = incident_with_alerts(2, workspace=workspace, number=first, labels=["existing"])
    second = incident_with_alerts(2, workspace=workspace, number=first + 1)
    closed = incident_with_alerts(1, workspace=workspace, number=first + 2)
    actions.close_incident(
        closed, classification="FalsePositive", reason="InaccurateData", actor=actor
    )
    alerts = list(Alert.objects.filter(relations__incident=incident).order_by("pk"))
    outside = Alert.objects.filter(relations__incident=second).order_by("pk").first()
    # A move from the second incident: an undoable change of this workspace.
    membership.move_alerts([outside], source=second, destination=incident, actor=actor)
    membership.add_alerts(second, [outside], actor=actor)
    outside = Alert.objects.filter(relations__incident=second).exclude(pk=outside.pk).get()
    entity = EntityFactory(workspace=workspace)
    alerts[0].entities.add(entity)
    rule = CorrelationRule.objects.create(workspace=workspace, name="Matrix rule", order=1)
    CorrelationRule.objects.create(workspace=workspace, name="Second rule", order=2)
    note = actions.add_comment(incident, "First look", actor=actor)
    change = MembershipChange.objects.filter(workspace=workspace).latest("pk")
    relation = Relation.objects.filter(incident=incident, alert=alerts[0]).get()
    return {
        "workspace": workspace.name,
        "number": incident.number,
        "numbers": [incident.number, second.number],
        "closed": closed.number,
        "system_alert_id": alerts[0].system_alert_id,
        "outside": outside.system_alert_id,
        "entity_id": entity.pk,
        "rule_id": rule.pk,
        "change": change.uuid,
        "subscription_id": workspace.subscription_id,
        "resource_group": workspace.resource_group,
        "workspace_name": workspace.name,
        "incident_id": incident.uuid,
        "second_uuid": str(second.uuid),
        "relation_name": relation.name,
        "comment_id": note.details["comment_id"],
        "outside_resource_id": (
            f"{workspace.resource_id}/providers/Microsoft.SecurityInsights/entities/"
            f"{outside.system_alert_id}"
        ),
        # Admin and sign-in views' parameters; the value does not matter to non-staff.
        "object_id": incident.pk,
        "id": incident.pk,
        "content_type_id": 1,
        "app_label": "incidents",
        "url": "nowhere/",
        "uidb64": "MQ",
        "token": "set-password",
    }


def state(workspace_name: str) -> dict:
    """Every row of the workspace a request may change."""
    ws = Workspace.objects.get(name=workspace_name)
    incidents = Incident.objects.filter(workspace=ws)
    alerts = Alert.objects.filter(workspace=ws)
    rows = {
        "workspace": Workspace.objects.filter(pk=ws.pk),
        "memberships": Membership.objects.filter(workspace=ws),
        "incidents": incidents,
        "alerts": alerts,
        "alert_entities": Alert.entities.through.objects.filter(alert__in=alerts),
        "entities": Entity.objects.filter(workspace=ws),
        "relations": Relation.objects.filter(incident__in=incidents),
        "activity": ActivityEntry.objects.filter(incident__in=incidents),
        "changes": MembershipChange.objects.filter(workspace=ws),
        "rules": CorrelationRule.objects.filter(workspace=ws),
        "rule_changes": RuleChange.objects.filter(rule__workspace=ws),
        "exclusions": CorrelationExclusion.objects.filter(workspace=ws),
    }
    found = {key: list(rows.order_by("pk").values()) for key, rows in rows.items()}
    # Signing in and using a token stamp the time: not a change anyone asked for.
    found["users"] = list(get_user_model().objects.order_by("pk").values(*USER_FIELDS))
    found["tokens"] = list(ApiToken.objects.order_by("pk").values(*TOKEN_FIELDS))
    return found


USER_FIELDS = ["pk", "username", "password", "is_active", "is_staff", "is_superuser"]
TOKEN_FIELDS = ["pk", "user", "workspace", "scope", "digest", "revoked"]


@dataclass
class Caller:
    role: str
    user: object
    token: str
    target: dict  # the world whose objects the URLs name
    home: dict  # the world of the actor's own workspace (foreign: the other one)


@pytest.fixture
def worlds(db):
    home = WorkspaceFactory(name="soc")
    away = WorkspaceFactory(name="branch-office")
    return home, away, world(home, 101), world(away, 201)


def make_caller(role: str, worlds) -> Caller:
    home, away, here, there = worlds
    if role == ANONYMOUS:
        return Caller(role, None, "", here, here)
    user = UserFactory(username=f"matrix-{role}")
    if role == OTHER:
        MembershipFactory(user=user, workspace=away, role=Role.CONTRIBUTOR)
    elif role == FOREIGN:
        MembershipFactory(user=user, workspace=home, role=Role.CONTRIBUTOR)
    elif role in (STAFF, SUPERUSER):
        user.is_staff = True
        user.is_superuser = role == SUPERUSER
        user.save()
    elif role != OUTSIDER:
        MembershipFactory(user=user, workspace=home, role=role)
    _, token = create_token(user)
    if role == FOREIGN:
        return Caller(role, user, token, there, here)
    return Caller(role, user, token, here, here)


# --- expected and observed outcomes ---------------------------------------------------


def rank(role: str) -> int:
    return ROLE_RANK[Role.CONTRIBUTOR if role in (OTHER, FOREIGN) else Role(role)]


def expected(route: Route, expect: Expect, role: str, method: str, foreign=()) -> str | set[str]:
    if expect.area == "fixed" and role == STAFF and route.name in STAFF_ADMIN:
        return STAFF_ADMIN[route.name][method]
    if expect.area == "fixed" and role == SUPERUSER and route.name.startswith("admin:"):
        return superuser_admin(route, method)
    if expect.area == "fixed":
        return expect.outcomes.get(method, "405")
    if expect.area == "admin":
        if role == SUPERUSER:
            return superuser_admin(route, method)
        return staff_admin(route, method) if role == STAFF else "admin-login"
    needed = expect.methods.get(method)
    if expect.area == "auth":
        # login_required comes before the method check in Django's own views.
        if role == ANONYMOUS:
            return "login"
        return "405" if needed is None else "ok"
    if expect.area == "api":
        if role == ANONYMOUS:
            return "401"
        if needed is None:
            return "405"
        if route.names_objects and role in (OUTSIDER, OTHER, FOREIGN, STAFF, SUPERUSER):
            return "404"
        if needed == SIGNED_IN:
            return "ok"
        return "ok" if rank(role) >= ROLE_RANK[needed] else "403"
    # web
    if needed is None:
        return "405"
    if role == ANONYMOUS:
        return "login"
    if role in NO_MEMBERSHIP:
        return "no-workspace"
    if set(foreign) & set(expect.explains_unknown):
        return "ok"
    if role in (OTHER, FOREIGN) and (route.names_objects or expect.names_objects):
        return "404"
    return "ok" if rank(role) >= ROLE_RANK[needed] else "403"


# Staff without permissions: the admin's own pages open, every model's pages are refused.
STAFF_ADMIN = {
    "admin:index": {"GET": "ok", "POST": "ok"},
    "admin:login": {"GET": "ok", "POST": "ok"},
    "admin:logout": {"GET": "405", "POST": "ok"},
    "admin:jsi18n": {"GET": "ok", "POST": "405"},
    "admin:password_change": {"GET": "ok", "POST": "ok"},
    "admin:password_change_done": {"GET": "ok", "POST": "405"},
    "admin:autocomplete": {"GET": "403", "POST": "405"},
    "admin:app_list": {"GET": "404", "POST": "404"},
    "admin:view_on_site": {"GET": "404", "POST": "404"},
    "admin/(?P<url>.*)$": {"GET": "404", "POST": "404"},
}


def staff_admin(route: Route, method: str) -> str | set[str]:
    if route.name in STAFF_ADMIN:
        return STAFF_ADMIN[route.name][method]
    if route.name.endswith("/<path:object_id>/"):
        return "ok"  # the old change address, redirected to the new one (refused there)
    if route.name.endswith("_history"):
        # Django sends a missing object's history back to the index before asking.
        return {"403", "ok"}
    return "403"


def superuser_admin(route: Route, method: str) -> str:
    """A superuser gets every admin page (and no server error on any), except what the
    design keeps out of the admin."""
    if route.name in STAFF_ADMIN and STAFF_ADMIN[route.name][method] == "405":
        return "405"
    found = SUPERUSER_ADMIN.get(route.name, "ok")
    return found[method] if isinstance(found, dict) else found


READ_ONLY = {"GET": "ok", "POST": "403"}
SUPERUSER_ADMIN = {
    "admin/(?P<url>.*)$": "404",
    "admin:view_on_site": "404",
    "admin:autocomplete": "403",  # without its parameters
    # Incidents and alerts come from ingestion and the app; membership changes only
    # through incidents.membership (the alert actions), never as rows.
    "admin:incidents_incident_add": "403",
    "admin:incidents_incident_delete": "403",
    "admin:incidents_alert_add": "403",
    "admin:incidents_alert_delete": "403",
    "admin:incidents_relation_add": "403",
    "admin:incidents_relation_change": READ_ONLY,
    "admin:incidents_relation_delete": "403",
    # Append-only logs: the activity, the security log, sign-in attempts.
    "admin:incidents_activityentry_add": "403",
    "admin:incidents_activityentry_change": READ_ONLY,
    "admin:incidents_activityentry_delete": "403",
    "admin:audit_securityevent_add": "403",
    "admin:audit_securityevent_change": READ_ONLY,
    "admin:audit_securityevent_delete": "403",
    "admin:axes_accessattempt_add": "403",
    "admin:axes_accesslog_add": "403",
    "admin:axes_accessfailurelog_add": "403",
    # A token's secret is shown once when made (manage.py create_api_token).
    "admin:incidents_apitoken_add": "403",
}


def observed(response) -> str:
    status = response.status_code
    location = response.get("Location", "")
    if status >= 500:
        return f"{status} (server error)"
    if status in (401, 403, 404, 405):
        return str(status)
    if status in (301, 302, 303) and location.startswith("/accounts/login/?next="):
        return "login"
    if status in (301, 302, 303) and location.startswith("/admin/login/?next="):
        return "admin-login"
    templates = [t.name for t in getattr(response, "templates", []) or []]
    if "incidents/no_workspace.html" in templates:
        return "no-workspace"
    return "ok"


def admin_object(route: Route) -> dict:
    """An admin page's object: a row of its own model (ids differ between tables)."""
    if not {"object_id", "id"} & set(route.params):
        return {}
    for model in apps.get_models():
        meta = model._meta
        named = f"admin:{meta.app_label}_{meta.model_name}_"
        if route.name.startswith((named, f"admin/{meta.app_label}/{meta.model_name}/")):
            pk = model.objects.order_by("pk").values_list("pk", flat=True).first() or 0
            return {"object_id": pk, "id": pk}
    return {}


def signed_in(actor: Caller) -> Client:
    client = Client()
    if actor.user is not None:
        client.force_login(actor.user)
    return client


def fresh(client: Client, cookies: SimpleCookie) -> Client:
    """The client with its first session again: the savepoint took back what a request did
    to the session (signing out, switching workspace), but not the cookie it was sent."""
    client.cookies = SimpleCookie(cookies.output(header="", sep=";"))
    return client


def request(
    client: Client,
    actor: Caller,
    route: Route,
    expect: Expect,
    method: str,
    htmx: bool,
    values: dict,
):
    url = url_of(route, {**values, **admin_object(route)})
    headers = {"HX-Request": "true"} if htmx else {}
    data = expect.data(actor.target) if expect.data else {}
    if expect.area == "api" or route.name.startswith("api:"):
        url += f"?{API_VERSION}"
        if actor.token:
            headers["Authorization"] = f"Bearer {actor.token}"
        if method == "GET":
            return client.get(url, headers=headers)
        return client.generic(
            method, url, data=json.dumps(data), content_type="application/json", headers=headers
        )
    if method == "GET":
        return client.get(url, headers=headers)
    return client.post(url, data, headers=headers)


# Parameters that name one object together (an API path's workspace).
PARAM_GROUPS = [
    ("subscription_id", "resource_group", "workspace_name"),
    ("number",),
    ("incident_id",),
    ("system_alert_id",),
    ("entity_id",),
    ("rule_id",),
    ("change",),
]


def with_overrides(world: dict, expect: Expect) -> dict:
    return {**world, **{param: world[key] for param, key in expect.values.items()}}


def addresses(
    actor: Caller, route: Route, expect: Expect
) -> list[tuple[dict, list[str], tuple[str, ...]]]:
    """The parameter values to ask with, and the workspaces that must not change.

    A foreign contributor asks for the other workspace's objects one at a time, the rest of
    the address their own (their incident, the other's entity), so a view that checks only
    the first object it looks up is caught."""
    there = with_overrides(actor.target, expect)
    protected = [actor.target["workspace"]]
    if actor.role != FOREIGN or not route.names_objects:
        return [(there, protected, ())]
    here = with_overrides(actor.home, expect)
    both = [*protected, actor.home["workspace"]]
    groups = [g for g in PARAM_GROUPS if set(g) & set(route.params)]
    return [({**here, **{p: there[p] for p in group}}, both, group) for group in groups]


def methods_of(expect: Expect) -> list[str]:
    extra = [m for m in ("PUT", "DELETE") if m in expect.methods]
    return ["GET", "POST", *extra]


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_each_role_as_designed(role, worlds):
    actor = make_caller(role, worlds)
    client = signed_in(actor)
    cookies = SimpleCookie(client.cookies.output(header="", sep=";"))
    wrong = []
    cases = 0
    for route in routes():
        expect = expectation(route.name)
        if expect is None:
            continue  # test_every_route_has_an_expectation says so
        # htmx fragments: the web pages again with HX-Request.
        variants = [False, True] if expect.area == "web" else [False]
        cases_of_route = [
            (method, htmx, values, protected, foreign)
            for method in methods_of(expect)
            for htmx in variants
            for values, protected, foreign in addresses(actor, route, expect)
        ]
        for method, htmx, values, protected, foreign in cases_of_route:
            cases += 1
            want = expected(route, expect, role, method, foreign)
            wants = want if isinstance(want, set) else {want}
            # Writes that must change nothing; the admin's sign-in redirect comes before
            # any admin view runs, and a view that answered otherwise fails anyway.
            writes = method != "GET" and expect.area != "admin"
            writes = writes and (bool(wants & REFUSALS) or role in STRANGERS)
            with transaction.atomic():
                fresh(client, cookies)
                before = [state(name) for name in protected] if writes else None
                response = request(client, actor, route, expect, method, htmx, values)
                got = observed(response)
                changed = writes and [state(name) for name in protected] != before
                transaction.set_rollback(True)
            label = f"{method}{' (htmx)' if htmx else ''} {route.name}"
            if role == FOREIGN:
                label += f" at {url_of(route, values)}"
            if got not in wants:
                where = response.get("Location", "")
                wrong.append(f"{label}: expected {want}, got {got} {response.status_code} {where}")
            elif changed:
                wrong.append(f"{label}: {got}, but a workspace changed")
    assert cases > 100
    assert not wrong, f"{role}: {len(wrong)} of {cases} cases wrong:\n" + "\n".join(wrong)


def test_the_worlds_do_not_share_incident_numbers(worlds):
    _, _, here, there = worlds
    assert not set(here["numbers"]) & set(there["numbers"])
    assert uuid.UUID(str(here["change"])) != uuid.UUID(str(there["change"]))
