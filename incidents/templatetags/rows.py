"""What a row of a long list needs, made cheaply: a page of 50 rows would otherwise reverse
about 150 URLs and render a template per timestamp.

- `{% url_pattern 'incidents:incident' as incident_url %}` outside the loop, then
  `{{ incident_url|fill:incident.number }}` in it: the urlconf's own address, reversed
  once with a stand-in argument that each row replaces with its own.
- `{{ alert.status|alert_status }}`: the status's name.
- `{{ value|timestamp }}`: `<time datetime="…">2026-12-03 12:24</time>`, or a muted dash.

- `{% incident_rows page.rows %}`: the incidents queue's rows, built in Python as the
  Django admin builds its changelist's (`items_for_result`): a 50-row page rendered
  through the template language cost several times its SQL (#14).

All are built-in tags (settings.TEMPLATES), so templates use them without `{% load %}`.
"""

import uuid

from django import template
from django.template.defaulttags import querystring
from django.urls import NoReverseMatch, reverse
from django.utils.dateformat import format as format_date
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime

from incidents.models import AlertStatus, Incident
from incidents.text import reveal_bidi

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


INCIDENT_ROW = (
    '<tr id="incident-row-{n}" class="sev-row sev-{sev}" data-panel-url="{url}panel/" '
    'tabindex="0" aria-describedby="panel-hint">{check}'
    '<td class="col-expand"><a class="expander" href="{alerts}" role="button" '
    'aria-expanded="false" aria-controls="expansion-{n}" aria-label="Show alerts for incident '
    '#{n}" data-expand-url="{rows}" data-expand-row="incident-row-{n}">'
    '<span aria-hidden="true">▸</span></a></td>'
    '<td class="num"><a href="{url}">#{n}</a></td>'
    '<td class="title"><a href="{url}" id="incident-title-{n}">{title}</a></td>'
    '<td><span class="sev sev-{sev}">{severity}</span></td>'
    '<td><span class="status status-{status_class}">{status}</span>{merged}</td>'
    "<td>{owner}</td>"
    '<td class="count">{count}{empty}</td>'
    '<td class="products">{products}</td>'
    '<td class="nowrap">{time}</td>'
    '<td class="row-actions"><a href="{url}graph/" aria-describedby="incident-title-{n}">'
    "Investigate</a></td></tr>\n"
)
CHECK = (
    '<td class="col-check"><input type="checkbox" name="incident" value="{n}" '
    'form="incident-selection" aria-label="Select incident #{n}" data-select-incident></td>'
)
MUTED = '<span class="muted">{}</span>'


@register.simple_tag(takes_context=True)
def incident_rows(context, incidents: list[Incident]) -> SafeString:
    """The incidents queue's rows: each with its checkbox (for those who may act), the
    expander, number, title, severity, status, owner, alert count, products (each a
    filter link), last activity and Investigate."""
    incident_url = UrlPattern("incidents:incident")
    alerts_url = UrlPattern("incidents:incident_alerts")
    rows_url = UrlPattern("incidents:incident_alert_rows")
    can_act = context.get("can_act")
    html = []
    for incident in incidents:
        n = incident.number
        url = incident_url.fill(n)
        products = [
            format_html(
                '<a class="chip" href="{}">{}</a>',
                querystring(context, product=product, cursor=None),
                reveal_bidi(product),
            )
            for product in incident.products
        ]
        html.append(
            format_html(
                INCIDENT_ROW,
                n=n,
                url=url,
                sev=incident.severity.lower(),
                check=format_html(CHECK, n=n) if can_act else "",
                alerts=alerts_url.fill(n),
                rows=rows_url.fill(n),
                title=reveal_bidi(incident.title),
                severity=incident.severity,
                status_class=incident.status.lower(),
                status=incident.status,
                merged=mark_safe(" " + MUTED.format("· Merged")) if incident.merged_into_id else "",
                owner=incident.owner.get_username()
                if incident.owner
                else format_html(MUTED, "Unassigned"),
                count=incident.alert_count,
                empty=""
                if incident.alert_count
                else mark_safe(' <span class="badge badge-empty" data-no-alerts>No alerts</span>'),
                products=mark_safe("".join(products)) if products else format_html(MUTED, "—"),
                time=timestamp(template_localtime(incident.last_activity_time)),
            )
        )
    return mark_safe("".join(html))
