"""The forms of the web app: linking alerts, adding one, and the incident's triage actions."""

from collections.abc import Sequence

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Case, Q, When

from incidents.actions import MAX_COMMENT_LENGTH, MAX_LABEL_LENGTH
from incidents.filters import parse_number, title_matches
from incidents.models import (
    CLASSIFICATION_REASONS,
    CorrelationExclusion,
    Incident,
    IncidentStatus,
    Role,
    Workspace,
)

EXISTING = "existing"
NEW = "new"


EMPTIED_CHOICES = [("keep", "Keep other incident"), ("close", "Close other incident")]


def emptied_field(incident: Incident) -> str:
    return f"emptied_{incident.number}"


class LinkAlertsForm(forms.Form):
    target = forms.ChoiceField(
        choices=[(EXISTING, "Link to an existing incident"), (NEW, "Create a new incident")],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose “Link to an existing incident” or “Create a new "
            "incident”: every alert must belong to an incident."
        },
    )
    incident = forms.CharField(label="Incident name or ID", required=False, max_length=300)
    comment = forms.CharField(
        label="Comment",
        required=False,
        max_length=MAX_COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # "Reopen it" when the incident chosen is closed: on unless the panel showed it unticked.
    reopen = forms.BooleanField(label="Reopen it", required=False)
    # One choice for every emptied incident; each one's own field (`emptied_<number>`) wins.
    emptied = forms.ChoiceField(choices=EMPTIED_CHOICES, widget=forms.RadioSelect, required=False)

    def __init__(
        self,
        *args,
        workspace: Workspace,
        source: Incident | None,
        emptied: Sequence[Incident] = (),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        self.source = source
        self.emptied_incidents = list(emptied)
        for incident in self.emptied_incidents:
            # Default Close, as Sentinel's "close other incident" does.
            self.fields[emptied_field(incident)] = forms.ChoiceField(
                choices=EMPTIED_CHOICES,
                widget=forms.RadioSelect,
                required=False,
                initial="close",
                label=f"#{incident.number} {incident.title}",
            )

    def clean(self) -> dict:
        data = super().clean()
        data["destination"] = None
        if data.get("target") == EXISTING:
            data["destination"] = self._destination(data.get("incident", ""))
        data["reopen"] = bool(data.get("reopen")) if self.data.get("reopen_shown") else True
        everyone = data.get("emptied") or "close"
        data["emptied_choices"] = {
            i.pk: data.get(emptied_field(i)) or everyone for i in self.emptied_incidents
        }
        return data

    def emptied_fields(self) -> list[tuple[Incident, forms.BoundField]]:
        return [(i, self[emptied_field(i)]) for i in self.emptied_incidents]

    def _destination(self, text: str) -> Incident | None:
        found, error = find_incident(self.workspace, text)
        if error:
            self.add_error("incident", error)
        if found is not None and self.source is not None and found.pk == self.source.pk:
            self.add_error("incident", "Choose another incident than the one the alerts are in.")
        return found


def find_incident(workspace: Workspace, text: str) -> tuple[Incident | None, str]:
    """The incident "Incident name or ID" names ("#12", "12", "#12 Title" or (part of) one
    title), or None with the reason in plain words."""
    incidents = Incident.objects.filter(workspace=workspace)
    number = parse_number(text)
    if number is not None:
        found = incidents.filter(number=number).first()
        if found is None:
            return None, f"There is no incident #{number} in this workspace."
        return found, ""
    if not text.strip():
        return None, "Type an incident’s number or name, then pick it."
    matches = list(title_matches(incidents, text).order_by("-number")[:2])
    if len(matches) == 1:
        return matches[0], ""
    if not matches:
        return None, f"No incident is called “{text.strip()}”."
    return None, f"Several incidents match “{text.strip()}”: pick one from the list."


class MergeForm(forms.Form):
    """ "Merge incidents": the target ("into", a number or what the typeahead chose) and why."""

    # Resolved by the view: chosen among the selection, or named by the typeahead.
    into = forms.CharField(label="Merge into", max_length=300, required=False)
    reason = forms.CharField(
        label="Reason",
        max_length=MAX_COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why these incidents belong together."},
    )


def classification_choices() -> list[tuple[str, str]]:
    """Sentinel's closing choices: each classification with each of its reasons."""
    choices = []
    for classification, reasons in CLASSIFICATION_REASONS.items():
        if not reasons:
            choices.append((classification.value, classification.label))
        for reason in reasons:
            label = f"{classification.label} – {reason.label.lower()}"
            choices.append((f"{classification.value}:{reason.value}", label))
    return choices


class CloseIncidentForm(forms.Form):
    classification = forms.ChoiceField(
        label="Classification",
        choices=classification_choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a classification to close the incident.",
            "invalid_choice": "Choose one of the listed classifications.",
        },
    )
    comment = forms.CharField(
        label="Comment",
        required=False,
        max_length=MAX_COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self) -> dict:
        data = super().clean()
        classification, _, reason = data.get("classification", "").partition(":")
        data["classification"], data["reason"] = classification, reason
        return data


class OwnerForm(forms.Form):
    owner = forms.ModelChoiceField(
        label="Owner",
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label="Unassigned",
        error_messages={
            "invalid_choice": (
                "Choose a member of this workspace who can act on incidents, or Unassigned."
            )
        },
    )

    def __init__(self, *args, workspace: Workspace, me=None, current=None, **kwargs):
        """Members who can act (responders and contributors), `me` first as "Assign to me";
        the `current` owner stays listed even if no longer one of them."""
        super().__init__(*args, **kwargs)
        can_act = Q(
            memberships__workspace=workspace,
            memberships__role__in=[Role.RESPONDER, Role.CONTRIBUTOR],
        )
        members = get_user_model().objects.filter(can_act | Q(pk=getattr(current, "pk", None)))
        me_first = Case(When(pk=getattr(me, "pk", None), then=0), default=1)
        self.fields["owner"].queryset = members.distinct().order_by(me_first, "username")

        def label(user) -> str:
            name = user.get_username()
            return f"Assign to me ({name})" if me is not None and user.pk == me.pk else name

        self.fields["owner"].label_from_instance = label


class StatusForm(forms.Form):
    """The status of the queue's selected incidents (closing has its own form)."""

    status = forms.ChoiceField(
        label="Status",
        choices=[(IncidentStatus.NEW, "New"), (IncidentStatus.ACTIVE, "Active")],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose New or Active.",
            "invalid_choice": "Choose New or Active.",
        },
    )


class LabelForm(forms.Form):
    label = forms.CharField(
        label="Label",
        max_length=MAX_LABEL_LENGTH,
        error_messages={"required": "A label cannot be empty."},
    )


class CommentForm(forms.Form):
    comment = forms.CharField(
        label="Comment",
        max_length=MAX_COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "A comment cannot be empty."},
    )


class AddAlertForm(forms.Form):
    """The answer to the special situations of adding an alert ("OK" posts "keep")."""

    other_incident = forms.ChoiceField(
        choices=[("keep", "Keep other incident"), ("close", "Close other incident")],
        error_messages={
            "required": "Choose “Keep other incident” or “Close other incident”.",
            "invalid_choice": "Choose “Keep other incident” or “Close other incident”.",
        },
    )


class RemoveAlertForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=MAX_COMMENT_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional. Kept in the incident's activity log.",
    )


class ExclusionForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=CorrelationExclusion._meta.get_field("reason").max_length,
        strip=True,
        help_text="Optional, e.g. “domain controller” or “vulnerability scanner”.",
    )
