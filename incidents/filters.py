"""The queues' filters. Their state lives in the query string, so a view can be shared."""

import datetime as dt
import operator
import re
from dataclasses import dataclass
from functools import reduce

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.functional import cached_property

from incidents.facets import MAX_VALUES, has_item, matching, present_values
from incidents.models import Alert, AlertStatus, Incident, IncidentStatus, Severity
from incidents.widgets import QuickSelect, QuickTextInput

NUMBER = re.compile(r"^\s*#?(\d{1,18})\b")

TIME_RANGES = {
    "24h": dt.timedelta(hours=24),
    "7d": dt.timedelta(days=7),
    "30d": dt.timedelta(days=30),
    "90d": dt.timedelta(days=90),
}
TIME_RANGE_CHOICES = [
    ("24h", "Last 24 hours"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("90d", "Last 90 days"),
]
OPEN = "open"
SEARCH_TERMS = 20
SEARCH_LENGTH = 200
SHORTENED = f"Search shortened to the first {SEARCH_TERMS} words and {SEARCH_LENGTH} characters."
# MITRE ATT&CK tactics as Sentinel names them, in the order of an attack.
TACTIC_CHOICES = [
    ("Reconnaissance", "Reconnaissance"),
    ("ResourceDevelopment", "Resource development"),
    ("InitialAccess", "Initial access"),
    ("Execution", "Execution"),
    ("Persistence", "Persistence"),
    ("PrivilegeEscalation", "Privilege escalation"),
    ("DefenseEvasion", "Defense evasion"),
    ("CredentialAccess", "Credential access"),
    ("Discovery", "Discovery"),
    ("LateralMovement", "Lateral movement"),
    ("Collection", "Collection"),
    ("CommandAndControl", "Command and control"),
    ("Exfiltration", "Exfiltration"),
    ("Impact", "Impact"),
    ("ImpairProcessControl", "Impair process control"),
    ("InhibitResponseFunction", "Inhibit response function"),
]


def parse_number(text: str) -> int | None:
    """The incident number that `text` starts with ("12", "#12", "#12 Title"), if any."""
    match = NUMBER.match(text or "")
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class Search:
    words: list[str]
    # Said beside the results when words were left out; "" when none were.
    note: str


def parse_search(text: str) -> Search:
    """The words a search looks for: each is one more LIKE clause, so at most
    SEARCH_TERMS of them, from the first SEARCH_LENGTH characters (a thousand words
    would overflow SQLite's expression tree and slow PostgreSQL for nothing)."""
    typed = text.split()
    words = " ".join(typed)[:SEARCH_LENGTH].split()[:SEARCH_TERMS]
    return Search(words, "" if words == typed else SHORTENED)


def title_matches(queryset: QuerySet, text: str) -> QuerySet:
    """Incidents whose title contains every word of `text` (as `parse_search` bounds it)."""
    for word in parse_search(text).words:
        queryset = queryset.filter(title__icontains=word)
    return queryset


class BoundedSearch:
    """A filter set whose `q` is a search box: says when the search was shortened."""

    @property
    def search_note(self) -> str:
        return parse_search(self.data.get("q") or "").note if self.data else ""


NO_ALERTS = "none"
SOME_ALERTS = "some"


class Choice(django_filters.ChoiceFilter):
    """A choice filter whose select is drawn in Python (`widgets.QuickSelect`): the filter
    bar is on every queue page."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", QuickSelect)
        super().__init__(*args, **kwargs)


def choice_list(name: str) -> forms.TextInput:
    """A text field offering the values present (a <datalist> the template fills)."""
    return QuickTextInput(attrs={"list": f"{name}-values", "autocomplete": "off"})


class IncidentFilter(BoundedSearch, django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="filter_q", widget=QuickTextInput)
    status = Choice(
        label="Status",
        choices=[(OPEN, "Open (New or Active)"), *IncidentStatus.choices],
        empty_label="Any status",
        method="filter_status",
    )
    severity = Choice(label="Severity", choices=Severity.choices, empty_label="Any severity")
    owner = Choice(
        label="Owner",
        choices=[("me", "Assigned to me"), ("none", "Unassigned")],
        empty_label="Anyone",
        method="filter_owner",
    )
    provider = django_filters.CharFilter(
        label="Provider", method="filter_provider", widget=choice_list("provider")
    )
    product = django_filters.CharFilter(
        label="Product", method="filter_product", widget=choice_list("product")
    )
    tactic = Choice(
        label="Tactic", choices=TACTIC_CHOICES, empty_label="Any tactic", method="filter_tactic"
    )
    label = django_filters.CharFilter(label="Label", method="filter_label", widget=QuickTextInput)
    range = Choice(
        label="Last activity",
        choices=TIME_RANGE_CHOICES,
        empty_label="Any time",
        method="filter_range",
    )
    alerts = Choice(
        label="Alerts",
        choices=[(NO_ALERTS, "Has no alerts"), (SOME_ALERTS, "Has alerts")],
        empty_label="Any",
        method="filter_alerts",
    )

    class Meta:
        model = Incident
        fields: list[str] = []

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and "status" not in data:
            # The queue shows open incidents until the user asks for something else.
            data = data.copy()
            data["status"] = OPEN
        super().__init__(data, *args, **kwargs)

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # Digits that are no incident number ("²", 25 of them) are searched as words.
        number = parse_number(value) if value.strip().lstrip("#").isdigit() else None
        if number is not None:
            return queryset.filter(number=number)
        return title_matches(queryset, value)

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == OPEN:
            return queryset.filter(status__in=[IncidentStatus.NEW, IncidentStatus.ACTIVE])
        return queryset.filter(status=value)

    def filter_owner(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "me":
            return queryset.filter(owner=self.request.user)
        return queryset.filter(owner__isnull=True)

    @cached_property
    def present(self) -> dict[str, list[str]]:
        """The providers of the workspace's incidents and the products of its alerts (1 query)."""
        fields = [(Incident, "provider_name"), (Alert, "product_name")]
        providers, products = present_values(self.request.membership.workspace, fields)
        return {"provider": providers, "product": products}

    def filter_provider(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(provider_name__in=matching(value, self.present["provider"]))

    def filter_product(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # The incident's own list of its alerts' products (`entity_index`): no join.
        products = matching(value, self.present["product"])
        if not products:
            return queryset.none()
        return queryset.filter(reduce(operator.or_, (has_item("products", p) for p in products)))

    def filter_tactic(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(has_item("tactics", value))

    def filter_label(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # In any case: an incident's labels are unique regardless of case (actions.add_label).
        return queryset.filter(has_item("labels", " ".join(value.split()), any_case=True))

    def filter_range(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(last_activity_time__gte=timezone.now() - TIME_RANGES[value])

    def filter_alerts(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # alert_count is kept by the membership module, so no join over the alerts.
        if value == NO_ALERTS:
            return queryset.filter(alert_count=0)
        return queryset.filter(alert_count__gt=0)


class AlertFilter(BoundedSearch, django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="filter_q", widget=QuickTextInput)
    severity = Choice(label="Severity", choices=Severity.choices, empty_label="Any severity")
    status = Choice(label="Status", choices=AlertStatus.choices, empty_label="Any status")
    provider = django_filters.CharFilter(
        label="Provider", method="filter_provider", widget=choice_list("provider")
    )
    product = django_filters.CharFilter(
        label="Product", method="filter_product", widget=choice_list("product")
    )
    tactic = Choice(
        label="Tactic", choices=TACTIC_CHOICES, empty_label="Any tactic", method="filter_tactic"
    )
    range = Choice(
        label="Generated",
        choices=TIME_RANGE_CHOICES,
        empty_label="Any time",
        method="filter_range",
    )

    class Meta:
        model = Alert
        fields: list[str] = []

    # Whether `facets.count_matching` must count in the list's order: only when the search
    # tests each alert's name, whose matches another index holds far along it. Other
    # filters are counted from whichever index holds their rows (a product's, say).
    count_in_order = False

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Alerts whose name contains every word (in any case). Alert names are their
        rules' names, a few hundred in a workspace: the names holding the words are found
        among those, then their alerts through the name index, instead of testing the
        name of every alert until a page and a count are found (#14). Past MAX_VALUES
        names, every alert's name is tested."""
        words = [word.upper() for word in parse_search(value).words]
        if not words:
            return queryset
        names = self.present["name"]
        if len(names) < MAX_VALUES:
            found = [n for n in names if all(word in n.upper() for word in words)]
            return queryset.filter(display_name__in=found)
        self.count_in_order = True
        return queryset.filter(
            reduce(operator.and_, (Q(display_name__icontains=word) for word in words))
        )

    def filter_range(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(time_generated__gte=timezone.now() - TIME_RANGES[value])

    @cached_property
    def present(self) -> dict[str, list[str]]:
        """The providers and products of the workspace's alerts, and their names when
        searching (1 query)."""
        fields = [(Alert, "provider_name"), (Alert, "product_name")]
        if (self.data or {}).get("q", "").strip():
            fields.append((Alert, "display_name"))
        providers, products, *names = present_values(self.request.membership.workspace, fields)
        return {"provider": providers, "product": products, "name": names[0] if names else []}

    def filter_provider(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(provider_name__in=matching(value, self.present["provider"]))

    def filter_product(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(product_name__in=matching(value, self.present["product"]))

    def filter_tactic(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(has_item("tactics", value))
