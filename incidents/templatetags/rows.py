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

import html as html_module
import uuid
from collections.abc import Callable
from urllib.parse import urlencode

from django import template
from django.template.defaulttags import querystring
from django.urls import NoReverseMatch, reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime

from incidents.models import AlertStatus, Incident
from incidents.templatetags.kinds import kind_icon, kind_label
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
    """Django's date formats "c" and "Y-m-d H:i", written out: `dateformat` costs
    tens of microseconds a call, and a page shows hundreds of times."""
    if not value:
        return mark_safe('<span class="muted">—</span>')
    day = f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    shown = f"{day} {value.hour:02d}:{value.minute:02d}"
    return mark_safe(f'<time datetime="{value.isoformat()}">{shown}</time>')


def html_row(template: str, **values: object) -> SafeString:
    """`format_html` for rows: each value escaped unless it is already HTML, as
    `conditional_escape` does, without its checks for lazy values on every call."""
    return mark_safe(
        template.format(
            **{
                key: value.__html__()
                if hasattr(value, "__html__")
                else html_module.escape(str(value))
                for key, value in values.items()
            }
        )
    )


def product_links(context) -> Callable[[str], str]:
    """The queue's address with `product` set to a value (and no cursor), as
    `{% querystring product=value cursor=None %}` writes it, without copying the query
    per product: its other parameters are encoded once."""
    request = getattr(context, "request", None)
    if request is None or "product" in request.GET:
        return lambda product: querystring(context, product=product, cursor=None)
    rest = querystring(context, cursor=None)
    joiner = "&" if len(rest) > 1 else ""
    return lambda product: f"{rest}{joiner}{urlencode({'product': product})}"


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
    product_url = product_links(context)
    html = []
    for incident in incidents:
        n = incident.number
        url = incident_url.fill(n)
        products = [
            html_row(
                '<a class="chip" href="{url}">{name}</a>',
                url=product_url(product),
                name=reveal_bidi(product),
            )
            for product in incident.products
        ]
        html.append(
            html_row(
                INCIDENT_ROW,
                n=n,
                url=url,
                sev=incident.severity.lower(),
                check=html_row(CHECK, n=n) if can_act else "",
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


# --- alerts ----------------------------------------------------------------------------

ENTITY_TAG = (
    '<span class="entity-tag" title="{label}: {identifier}"><img class="kind-icon" src="{icon}" '
    'alt="{label}" width="14" height="14"> {name}</span>'
)


@register.filter
def alert_entities(alert) -> SafeString:
    """The alert's main entities (hosts, accounts, IPs), each with its kind's icon: what
    tells alerts of the same name apart (`selectors.attach_main_entities`)."""
    entities = getattr(alert, "main_entities", None)
    if not entities:
        return mark_safe("")
    tags = [
        format_html(
            ENTITY_TAG,
            label=kind_label(e.kind),
            identifier=reveal_bidi(e.identifier),
            icon=kind_icon(e.kind),
            name=reveal_bidi(e.display_name or e.identifier),
        )
        for e in entities
    ]
    more = getattr(alert, "more_entities", 0)
    if more:
        tags.append(format_html('<span class="muted">+{} more</span>', more))
    return format_html('<span class="alert-entities">{}</span>', mark_safe("".join(tags)))


def _reason_words(why, lead: str) -> SafeString:
    if not why.rule_name:
        return format_html("{}", reveal_bidi(why.text))
    name = reveal_bidi(why.rule_name)
    if why.rule_url:
        name = format_html('<a href="{}">{}</a>', why.rule_url, name)
    return format_html("{} “{}”: {}", lead, name, reveal_bidi(why.text))


@register.filter
def reason(why) -> SafeString:
    """Why an alert is in an incident (`rules.explain.Explanation`): the text, or
    Rule “name” (linked to the rule): text; and for a merged relation, why before."""
    if not why:
        return mark_safe("")
    html = _reason_words(why, "Rule")
    if why.earlier:
        before = _reason_words(why.earlier, "rule")
        html = format_html('{} <span class="muted">· before: {}</span>', html, before)
    return html


ALERT_ROW = (
    '<tr class="sev-row sev-{sev}">{check}'
    '<td class="title"><a href="{url}">{name}</a>{entities}{refusal}</td>'
    '<td><span class="sev sev-{sev}">{severity}</span></td>'
    "<td>{status}</td>"
    "<td>{product}</td>"
    '<td class="nowrap">{time}</td>'
    '<td class="links">{links}</td>{why}</tr>\n'
)


@register.simple_tag(takes_context=True)
def alert_rows(context, alerts) -> SafeString:
    """Rows of alerts (the alerts queue; with `incident` in the context, an incident's
    Alerts tab and expanded queue row, with "Why is this here?"): the checkbox, or the
    reason it is disabled, the name and main entities, severity, status, product,
    time, the other incidents and why."""
    alert_url = UrlPattern("incidents:alert")
    incident_url = UrlPattern("incidents:incident")
    can_act = context.get("can_act")
    incident = context.get("incident")
    here = incident.number if incident else None
    html = []
    for alert in alerts:
        uuid_ = alert.system_alert_id
        name = reveal_bidi(alert.display_name)
        refusal_id = f"link-refusal-{here}-{uuid_}" if incident else f"link-refusal-{uuid_}"
        refused = can_act and getattr(alert, "remove_refusal", "")
        if not can_act:
            check = ""
        elif refused:
            check = format_html(
                '<td class="col-check"><input type="checkbox" disabled aria-label="Select alert '
                '{}" aria-describedby="{}"></td>',
                name,
                refusal_id,
            )
        else:
            check = format_html(
                '<td class="col-check"><input type="checkbox" name="alert" value="{}" '
                'aria-label="Select alert {}" data-select></td>',
                uuid_,
                name,
            )
        links = alert.incident_links
        others = [
            format_html(
                '<a href="{}" title="{} ({})">#{}</a> ',
                incident_url.fill(link.number),
                reveal_bidi(link.title),
                link.status,
                link.number,
            )
            for link in links
            if link.number != here
        ]
        why = ""
        if incident:
            found = getattr(alert, "why", None)
            why = format_html(
                '<td class="why">{}</td>', reason(found) if found else format_html(MUTED, "—")
            )
        html.append(
            html_row(
                ALERT_ROW,
                sev=alert.severity.lower(),
                check=check,
                url=alert_url.fill(uuid_),
                name=name,
                entities=alert_entities(alert),
                refusal=format_html(
                    '<p class="refusal" id="{}">{}</p>',
                    refusal_id,
                    reveal_bidi(alert.remove_refusal),
                )
                if refused
                else "",
                severity=alert.severity,
                status=alert_status(alert.status),
                product=reveal_bidi(alert.product_name) or "—",
                time=timestamp(template_localtime(alert.time_generated)),
                links=mark_safe("".join(others)) if links else format_html(MUTED, "—"),
                why=why,
            )
        )
    return mark_safe("".join(html))
