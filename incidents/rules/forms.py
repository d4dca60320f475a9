"""The correlation rule form: every setting of a rule, checked in plain words."""

import datetime as dt
import re

from django import forms

from incidents.models import EntityKind, GroupingMethod, Severity
from incidents.rules.engine import window_text
from incidents.rules.grouping import DETAILS

MIN_WINDOW = dt.timedelta(minutes=5)
MAX_WINDOW = dt.timedelta(days=7)
UNITS = {
    "m": 1,
    "min": 1,
    "mins": 1,
    "minute": 1,
    "minutes": 1,
    "h": 60,
    "hr": 60,
    "hrs": 60,
    "hour": 60,
    "hours": 60,
    "d": 24 * 60,
    "day": 24 * 60,
    "days": 24 * 60,
}
_PART = re.compile(r"\s*(\d+)\s*([a-z]*)\s*")
KIND_CHOICES = [(k, label) for k, label in EntityKind.choices if k != EntityKind.OTHER]


def parse_window(text: str) -> dt.timedelta | None:
    """ "5h", "30m", "2d", "1h 30m", "5 hours" or a number of minutes; None if unreadable."""
    text = text.strip().lower()
    if re.fullmatch(r"\d+", text):
        return dt.timedelta(minutes=int(text))
    minutes, position = 0, 0
    while position < len(text):
        found = _PART.match(text, position)
        if not found or found.group(2) not in UNITS:
            return None
        minutes += int(found.group(1)) * UNITS[found.group(2)]
        position = found.end()
    return dt.timedelta(minutes=minutes) if text else None


class WindowField(forms.CharField):
    default_error_messages = {
        "invalid": "Write the window as a number of minutes or with a unit, such as 30m, 5h or 2d.",
        "bounds": "The window must be between 5 minutes and 7 days.",
    }

    def prepare_value(self, value):
        return window_text(value) if isinstance(value, dt.timedelta) else value

    def to_python(self, value) -> dt.timedelta | None:
        text = super().to_python(value)
        if not text:
            return None
        window = parse_window(text)
        if window is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if not MIN_WINDOW <= window <= MAX_WINDOW:
            raise forms.ValidationError(self.error_messages["bounds"], code="bounds")
        return window


class ListField(forms.CharField):
    """Values separated by commas or new lines, kept once each in the order written."""

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value) -> list[str]:
        text = super().to_python(value) or ""
        values = [v.strip() for v in re.split(r"[,\n]", text)]
        return list(dict.fromkeys(v for v in values if v))


def _checkboxes(choices, label: str, help_text: str = "") -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        choices=choices,
        required=False,
        label=label,
        help_text=help_text,
        widget=forms.CheckboxSelectMultiple,
    )


def _list(label: str, help_text: str) -> ListField:
    return ListField(label=label, required=False, help_text=help_text, max_length=2000)


class RuleForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=200,
        error_messages={"required": "Give the rule a name, so its incidents can say why."},
    )
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    enabled = forms.BooleanField(label="Enabled", required=False, initial=True)
    name_contains = forms.CharField(label="Alert name contains", required=False, max_length=256)
    name_equals = forms.CharField(label="Alert name equals", required=False, max_length=256)
    product_names = _list("Product names", "Any of these products, separated by commas.")
    provider_names = _list("Provider names", "Any of these providers, separated by commas.")
    min_severity = forms.ChoiceField(
        label="Severity at least",
        required=False,
        choices=[("", "Any severity"), *Severity.choices],
    )
    tactics = _list("Tactics include", "At least one of these MITRE ATT&CK tactics.")
    alert_types = _list("Alert types", "Any of these alert types (the analytics rule’s id).")
    entity_kinds_present = _checkboxes(
        KIND_CHOICES, "Entity kinds present", "The alert names an entity of each kind ticked."
    )
    method = forms.ChoiceField(
        label="Grouping method",
        choices=GroupingMethod.choices,
        initial=GroupingMethod.SHARED_ENTITY,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how the rule groups alerts."},
    )
    entity_kinds = _checkboxes(
        KIND_CHOICES,
        "Entity kinds to match",
        "Selected: alerts whose entities of these kinds are the same. Shared entity: alerts "
        "that share a strong entity of these kinds (none ticked: any kind).",
    )
    match_details = _checkboxes(
        list(DETAILS.items()), "Alert details to match", "Selected only: alerts alike in these."
    )
    custom_details = _list(
        "Custom details to match",
        "Selected only: keys of the alert’s ExtendedProperties whose values must be the same.",
    )
    window = WindowField(
        label="Window",
        initial=dt.timedelta(hours=5),
        widget=forms.TextInput(attrs={"maxlength": 40, "size": 10}),
        help_text="From 5 minutes to 7 days, counted from the incident’s first alert: "
        "30m, 5h, 2d or minutes.",
        error_messages={"required": "Give the window, such as 5h."},
    )
    reopen_closed = forms.BooleanField(
        label="Re-open closed matching incidents",
        required=False,
        help_text="Off: an alert matching a closed incident starts a new one.",
    )

    def clean(self) -> dict:
        data = super().clean()
        method = data.get("method")
        contains, equals = data.get("name_contains", ""), data.get("name_equals", "")
        if contains and equals and contains.casefold() not in equals.casefold():
            self.add_error(
                "name_equals",
                f"No alert name can equal “{equals}” and contain “{contains}”: "
                "leave one of them empty.",
            )
        if method == GroupingMethod.SELECTED and not (
            data.get("entity_kinds") or data.get("match_details") or data.get("custom_details")
        ):
            self.add_error(
                "method",
                "“Selected” needs at least one entity kind, alert detail or custom detail "
                "to match on.",
            )
        # Settings the chosen method does not use are not kept, so the rule says what it does.
        if method in (GroupingMethod.ANY_ALERT, GroupingMethod.ALL_ENTITIES):
            data["entity_kinds"] = []
        if method != GroupingMethod.SELECTED:
            data["match_details"], data["custom_details"] = [], []
        return data
