"""What a row of a long list needs, made cheaply: a page of 50 rows would otherwise reverse
about 150 URLs and render a template per timestamp.

- `{% url_pattern 'incidents:incident' as incident_url %}` outside the loop, then
  `{{ incident_url|fill:incident.number }}` in it: the urlconf's own address, reversed
  once with a stand-in argument that each row replaces with its own.
- `{{ alert.status|alert_status }}`: the status's name.
- `{{ value|timestamp }}`: `<time datetime="…">2026-12-03 12:24</time>`, or a muted dash.

Both are built-in tags (settings.TEMPLATES), so templates use them without `{% load %}`.
"""

import uuid

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.dateformat import format as format_date
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from incidents.models import AlertStatus

register = template.Library()

# Stand-ins no real argument equals; one per path converter the patterns use.
STAND_INS = ("987654321987", str(uuid.UUID("0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f")))


class UrlPattern:
    """A reversed URL with a hole where its last argument goes; `fixed` are the others
    (`{% url_pattern 'incidents:remove_alert' incident.number as remove_url %}`)."""

    def __init__(self, name: str, *fixed: object) -> None:
        for stand_in in STAND_INS:
            try:
                url = reverse(name, args=[*fixed, stand_in])
            except NoReverseMatch:
                continue
            self.prefix, found, self.suffix = url.partition(stand_in)
            if found:
                return
        raise NoReverseMatch(f"{name} does not end with an integer or UUID argument")

    def fill(self, value: object) -> SafeString:
        # The prefix and suffix come from the urlconf; the argument is escaped.
        return mark_safe(f"{self.prefix}{conditional_escape(value)}{self.suffix}")


@register.simple_tag
def url_pattern(name: str, *fixed: object) -> UrlPattern:
    return UrlPattern(name, *fixed)


@register.filter
def fill(pattern: UrlPattern, value: object) -> SafeString:
    return pattern.fill(value)


ALERT_STATUSES = dict(AlertStatus.choices)


@register.filter
def alert_status(status: str) -> str:
    """The status's name, from a dict (`get_status_display` rebuilds the choices per call)."""
    return ALERT_STATUSES.get(status, status)


@register.filter(expects_localtime=True)
def timestamp(value) -> SafeString:
    if not value:
        return mark_safe('<span class="muted">—</span>')
    return format_html(
        '<time datetime="{}">{}</time>', format_date(value, "c"), format_date(value, "Y-m-d H:i")
    )
