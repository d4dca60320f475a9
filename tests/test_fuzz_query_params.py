"""Whatever a query string holds, no page or fragment answers with a 5xx (#13).

The routes come from the URLconf (`incidents.urls`), so a route added later is fuzzed
without anyone remembering to; the parameters are those the views read: their filter
sets' and forms' fields, and every name their source reads from the query string.
"""

import base64
import inspect
import json
import re
import sys
from pathlib import Path

import django_filters
import pytest
from django import forms
from django.test import Client
from django.urls import URLPattern, reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import incidents.filters
import incidents.forms
import incidents.rules.forms
import incidents.urls
import incidents.views
from incidents import membership, selectors
from incidents.middleware import NUL_REFUSED
from incidents.models import CorrelationRule, EntityKind
from incidents.rules.defaults import install_default_rules
from tests.factories import INGESTION, EntityFactory, incident_with_alerts

HTMX = {"HX-Request": "true"}
# Names read from the query string in the views' source: request.GET.get("x"), data["x"], …
READS = re.compile(r"""\b(?:GET|data)\s*(?:\.get(?:list)?\(\s*|\[\s*)["']([^"']+)["']""")
ALWAYS = {"cursor", "sort", "q", "next", "page"}
FORM_MODULES = [incidents.filters, incidents.forms, incidents.rules.forms]


def routes() -> list[URLPattern]:
    found = []
    for entry in incidents.urls.urlpatterns:
        assert isinstance(entry, URLPattern), "Teach this test to walk an include()."
        found.append(entry)
    return found


def form_classes() -> list[type]:
    return [
        obj
        for module in FORM_MODULES
        for obj in vars(module).values()
        if isinstance(obj, type)
        and issubclass(obj, forms.BaseForm | django_filters.FilterSet)
        and obj.__module__ == module.__name__
    ]


def fields_of(form: type) -> set[str]:
    return set(getattr(form, "base_fields", None) or getattr(form, "base_filters", {}))


def parameter_names() -> list[str]:
    """Every name any view reads from a query string, or any of their forms has."""
    names = set(ALWAYS)
    for source in Path(incidents.views.__file__).parent.glob("*.py"):
        names |= set(READS.findall(source.read_text()))
    for form in form_classes():
        names |= fields_of(form)
    return sorted(names)


def read_by(route: URLPattern) -> list[str]:
    """The names the route's view module reads, and the fields of the forms it uses."""
    source = inspect.getsource(sys.modules[route.callback.__module__])
    names = ALWAYS | set(READS.findall(source))
    for form in form_classes():
        if re.search(rf"\b{form.__name__}\b", source):
            names |= fields_of(form)
    return sorted(names)


def choice_values() -> list[str]:
    """Values the forms and sorts accept, so examples reach past the first check."""
    values = {str(v) for v in EntityKind.values}
    for form in form_classes():
        fields = getattr(form, "base_fields", None) or {
            n: f.field for n, f in getattr(form, "base_filters", {}).items()
        }
        for field in fields.values():  # ChoiceFilter and ChoiceField alike
            for choice in getattr(field, "choices", None) or []:
                if isinstance(choice, tuple) and isinstance(choice[0], str):
                    values.add(choice[0])
    for sorts in (selectors.INCIDENT_SORTS, selectors.ALERT_SORTS):
        values |= {f"{d}{s}" for s in sorts for d in ("", "-")}
    return sorted(values)


def encoded(data) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


ROUTES = routes()
PARAMETERS = parameter_names()
SCALAR = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
JSON = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)
# Shaped like a page cursor (direction, key values), with values of any type.
CURSOR = st.tuples(st.sampled_from("np"), st.lists(SCALAR, max_size=3)).map(list)


@pytest.fixture
def world(workspace, responder):
    """One of each object a route names, and the values that name them."""
    incident = incident_with_alerts(3, workspace=workspace, title="Ransomware on HR laptop")
    other = incident_with_alerts(2, workspace=workspace)
    alert = incident.relations.filter(alert__isnull=False).first().alert
    host = EntityFactory(workspace=workspace)
    host.alerts.add(alert)
    moved = membership.move_alerts(
        [other.relations.filter(alert__isnull=False).first().alert],
        destination=incident,
        source=other,
        actor=INGESTION,
    )
    install_default_rules(workspace)
    kwargs = {
        "number": incident.number,
        "system_alert_id": alert.system_alert_id,
        "entity_id": host.pk,
        "rule_id": CorrelationRule.objects.filter(workspace=workspace).first().pk,
        "change": moved.change.uuid,
    }
    values = [
        *choice_values(),
        *(str(v) for v in kwargs.values()),
        f"#{incident.number}",
        f"#{other.number}",
        f"/incidents/{incident.number}/",
    ]
    return kwargs, values


def address(route: URLPattern, kwargs: dict) -> str:
    names = list(route.pattern.converters)
    unknown = set(names) - set(kwargs)
    assert not unknown, f"Teach the world of this test which object names {unknown}."
    return reverse(f"incidents:{route.name}", kwargs={n: kwargs[n] for n in names})


# Sent in every parameter a route reads, one request each, before the random examples.
NASTY = [
    "",
    "a\x00b",
    "x" * 5000,
    " ".join(["word"] * 1000),
    "-1",
    "9" * 40,
    "²",
    "<svg onload=alert(1)>",
    "\u202e",
    encoded(["n", ["not a time", None]]),
]


def parameters(own: list[str], known: list[str]) -> st.SearchStrategy:
    value = st.one_of(
        st.text(max_size=40),
        st.sampled_from(known),
        st.sampled_from(NASTY),
        st.text(min_size=1, max_size=4).map(lambda s: s * 1500),
        (JSON | CURSOR).map(encoded),
    )
    # Mostly the route's own parameters, sometimes any other view's.
    name = st.one_of(st.sampled_from(own), st.sampled_from(own), st.sampled_from(PARAMETERS))
    return st.dictionaries(name, st.lists(value, min_size=1, max_size=2), max_size=4)


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
def test_no_query_string_makes_a_page_or_fragment_fail(client: Client, responder, world, route):
    kwargs, known = world
    url = address(route, kwargs)
    own = read_by(route)
    client.force_login(responder)
    for n, value in enumerate(NASTY):
        query = {name: value for name in own}
        response = client.get(url, query, headers=HTMX if n % 2 else {})
        assert response.status_code < 500, (url, query)

    @settings(
        max_examples=12,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        # The world differs per run, so failing examples are not worth keeping on disk.
        database=None,
    )
    @given(query=parameters(own, known), htmx=st.booleans())
    def fuzz(query: dict, htmx: bool) -> None:
        response = client.get(url, query, headers=HTMX if htmx else {})
        assert response.status_code < 500, (url, query, htmx)

    fuzz()


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_a_nul_in_the_query_string_is_a_400_that_says_so(client, responder, world, headers):
    client.force_login(responder)

    response = client.get("/incidents/search/", {"incident": "phish\x00ing"}, headers=headers)

    assert response.status_code == 400
    assert response.content.decode() == NUL_REFUSED


def test_a_nul_in_the_api_query_string_is_a_400_in_the_api_error_shape(client, workspace):
    response = client.get("/api/workspaces", {"$filter\x00": "x"})

    assert response.status_code == 400
    assert response.json() == {"error": {"code": "BadRequest", "message": NUL_REFUSED}}
