"""`widgets.QuickSelect` and `QuickTextInput` draw exactly what Django's `Select` and
`TextInput` draw from their templates."""

import pytest
from django import forms

from incidents.filters import AlertFilter, IncidentFilter
from incidents.widgets import QuickSelect, QuickTextInput

CHOICES = [
    ("", "Any <status>"),
    ("a&b", "A & “B”"),
    ("x", "It's X"),
    ("Group", [("g1", "G1"), ("g2", "G2")]),
]


@pytest.mark.parametrize("value", ["", "a&b", "g2", None, ["x"], "missing"])
@pytest.mark.parametrize(
    "attrs", [{}, {"class": "wide", "required": True, "disabled": False, "data-x": '1"2'}]
)
def test_it_draws_what_djangos_select_draws(value, attrs):
    ours = QuickSelect(choices=CHOICES, attrs=attrs).render("status", value, {"id": "id_s"})
    django = forms.Select(choices=CHOICES, attrs=attrs).render("status", value, {"id": "id_s"})
    assert ours == django


@pytest.mark.parametrize("filterset", [IncidentFilter, AlertFilter])
def test_the_queues_filter_bars_use_it_for_every_choice(filterset):
    selects = [
        name
        for name, field in filterset.base_filters.items()
        if isinstance(field.field.widget, forms.Select)
    ]
    assert selects
    assert all(isinstance(filterset.base_filters[n].field.widget, QuickSelect) for n in selects)


@pytest.mark.parametrize("value", [None, "", "a&b <c> \"d\" 'e'", 42])
@pytest.mark.parametrize(
    "attrs",
    [{}, {"list": "product-values", "autocomplete": "off", "required": True, "hidden": False}],
)
def test_the_text_input_draws_what_djangos_draws(value, attrs):
    ours = QuickTextInput(attrs=attrs).render("q", value, {"id": "id_q", "maxlength": 200})
    django = forms.TextInput(attrs=attrs).render("q", value, {"id": "id_q", "maxlength": 200})
    assert ours == django


@pytest.mark.parametrize("filterset", [IncidentFilter, AlertFilter])
def test_the_queues_filter_bars_draw_every_text_field_in_python(filterset):
    inputs = [
        field.field.widget
        for field in filterset.base_filters.values()
        if isinstance(field.field.widget, forms.TextInput)
    ]
    assert inputs
    assert all(isinstance(widget, QuickTextInput) for widget in inputs)
