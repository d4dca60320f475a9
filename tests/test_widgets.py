"""`widgets.QuickSelect` draws exactly what Django's `Select` draws from its templates."""

import pytest
from django import forms

from incidents.filters import AlertFilter, IncidentFilter
from incidents.widgets import QuickSelect

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
