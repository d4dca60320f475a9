"""What a row of a long list needs, made cheaply: a page of 50 rows would otherwise reverse
about 150 URLs and render a template per timestamp.

- `{% url_pattern 'incidents:incident' as incident_url %}` outside the loop, then
  `{{ incident_url|fill:incident.number }}` in it: the urlconf's own address, reversed
  once with a stand-in argument that each row replaces with its own.
- `{{ alert.status|alert_status }}`: the status's name.
- `{{ value|timestamp }}`: `<time datetime="…">2026-12-03 12:24</time>`, or a muted dash.

- `{% timeline_items alerts in_incident=True menu=can_act %}`: a timeline's alerts (the
  Overview's, the entity panel's), built the same way: an include per alert cost more
  than the rest of the Overview.
- `{% entity_rows group.entities incident entity kind %}`: the Entities tab's rows.
- `{% activity_entry entry %}`: an Activity tab entry's meta line, message, comment and
  alerts.
- `{% incident_rows page.rows %}`: the incidents queue's rows, built in Python as the
  Django admin builds its changelist's (`items_for_result`): a 50-row page rendered
  through the template language cost several times its SQL (#14).

All are built-in tags (settings.TEMPLATES), so templates use them without `{% load %}`.
"""

import html as html_module
import uuid
from collections.abc import Callable
from urllib.parse import quote, urlencode

from django import template
from django.template.defaulttags import querystring
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import SafeString
from django.utils.timezone import template_localtime

from incidents import entity_index
from incidents import markdown as comments
from incidents.models import ActivityKind, AlertStatus, Incident
from incidents.templatetags.kinds import kind_icon, kind_label
from incidents.templatetags.long_text import collapsible
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
        return SafeString(f"{self.prefix}{_escaped(value)}{self.suffix}")


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
        return SafeString('<span class="muted">—</span>')
    day = f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    shown = f"{day} {value.hour:02d}:{value.minute:02d}"
    return SafeString(f'<time datetime="{value.isoformat()}">{shown}</time>')


def html_row(template: str, *args: object, **values: object) -> SafeString:
    """`format_html` for rows: each value escaped unless it is already HTML, as
    `conditional_escape` does, without its checks for lazy values on every call (nor
    `mark_safe`'s: the result is always a str, so SafeString says the same for less)."""
    return SafeString(
        template.format(*map(_escaped, args), **{k: _escaped(v) for k, v in values.items()})
    )


def _escaped(value: object) -> str:
    return value.__html__() if hasattr(value, "__html__") else html_module.escape(str(value))


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
MERGED = SafeString(" " + MUTED.format("· Merged"))


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
                merged=MERGED if incident.merged_into_id else "",
                owner=incident.owner.get_username()
                if incident.owner
                else html_row(MUTED, "Unassigned"),
                count=incident.alert_count,
                empty=""
                if incident.alert_count
                else SafeString(' <span class="badge badge-empty" data-no-alerts>No alerts</span>'),
                products=SafeString("".join(products)) if products else html_row(MUTED, "—"),
                time=timestamp(template_localtime(incident.last_activity_time)),
            )
        )
    return SafeString("".join(html))


# --- entities --------------------------------------------------------------------------

ENTITY_ROW = (
    "<tr{selected}>"
    '<td class="title"><a id="entity-{pk}" href="{url}" hx-get="{url}" hx-target="#incident" '
    'hx-swap="outerHTML" hx-push-url="true"{current} title="{identifier}">{name}</a></td>'
    '<td class="count">{alerts}</td>'
    '<td class="count">{others}</td></tr>\n'
)


@register.simple_tag
def entity_rows(entities, incident: Incident, selected=None, kind: str = "") -> SafeString:
    """The Entities tab's rows of one kind: each entity's link to its panel (keeping the
    kind filter), its alerts in this incident and its other open incidents."""
    entity_url = UrlPattern("incidents:incident_entity", incident.number)
    query = f"?{urlencode({'kind': kind})}" if kind else ""
    chosen = getattr(selected, "pk", None)
    html = []
    for entity in entities:
        here = entity.pk == chosen
        html.append(
            html_row(
                ENTITY_ROW,
                pk=entity.pk,
                url=SafeString(f"{entity_url.fill(entity.pk)}{html_module.escape(query)}"),
                selected=SafeString(' class="selected"') if here else "",
                current=SafeString(' aria-current="true"') if here else "",
                identifier=reveal_bidi(entity.identifier),
                name=reveal_bidi(entity.display_name or entity.identifier),
                alerts=entity.incident_alerts,
                others=entity_index.open_count_label(entity.other_open_incidents),
            )
        )
    return SafeString("".join(html))


# --- alerts ----------------------------------------------------------------------------

ENTITY_TAG = (
    '<span class="entity-tag" title="{label}: {identifier}"><img class="kind-icon" src="{icon}" '
    'alt="{label}" width="14" height="14"> {name}</span>'
)


@register.filter
def alert_entities(alert, drawn: dict | None = None) -> SafeString:
    """The alert's main entities (hosts, accounts, IPs), each with its kind's icon: what
    tells alerts of the same name apart (`selectors.attach_main_entities`). `drawn`: the
    tags already drawn for a list's other rows, by entity (a busy incident's alerts share
    their hosts and accounts)."""
    entities = getattr(alert, "main_entities", None)
    if not entities:
        return SafeString("")
    drawn = {} if drawn is None else drawn
    tags = []
    for e in entities:
        tag = drawn.get(e)
        if tag is None:
            drawn[e] = tag = html_row(
                ENTITY_TAG,
                label=kind_label(e.kind),
                identifier=reveal_bidi(e.identifier),
                icon=kind_icon(e.kind),
                name=reveal_bidi(e.display_name or e.identifier),
            )
        tags.append(tag)
    more = getattr(alert, "more_entities", 0)
    if more:
        tags.append(html_row('<span class="muted">+{} more</span>', more))
    return html_row('<span class="alert-entities">{}</span>', SafeString("".join(tags)))


def _reason_words(why, lead: str) -> SafeString:
    if not why.rule_name:
        return html_row("{}", reveal_bidi(why.text))
    name = reveal_bidi(why.rule_name)
    if why.rule_url:
        name = html_row('<a href="{}">{}</a>', why.rule_url, name)
    return html_row("{} “{}”: {}", lead, name, reveal_bidi(why.text))


@register.filter
def reason(why) -> SafeString:
    """Why an alert is in an incident (`rules.explain.Explanation`): the text, or
    Rule “name” (linked to the rule): text; and for a merged relation, why before."""
    if not why:
        return SafeString("")
    html = _reason_words(why, "Rule")
    if why.earlier:
        before = _reason_words(why.earlier, "rule")
        html = html_row('{} <span class="muted">· before: {}</span>', html, before)
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
    # What rows share, drawn once: entity tags, links to incidents, reasons.
    tags: dict = {}
    drawn: dict = {}
    html = []
    for alert in alerts:
        uuid_ = alert.system_alert_id
        name = reveal_bidi(alert.display_name)
        refusal_id = f"link-refusal-{here}-{uuid_}" if incident else f"link-refusal-{uuid_}"
        refused = can_act and getattr(alert, "remove_refusal", "")
        if not can_act:
            check = ""
        elif refused:
            check = html_row(
                '<td class="col-check"><input type="checkbox" disabled aria-label="Select alert '
                '{}" aria-describedby="{}"></td>',
                name,
                refusal_id,
            )
        else:
            check = html_row(
                '<td class="col-check"><input type="checkbox" name="alert" value="{}" '
                'aria-label="Select alert {}" data-select></td>',
                uuid_,
                name,
            )
        links = alert.incident_links
        others = []
        for link in links:
            if link.number == here:
                continue
            key = (link.number, link.title, link.status)
            if key not in drawn:
                drawn[key] = html_row(
                    '<a href="{}" title="{} ({})">#{}</a> ',
                    incident_url.fill(link.number),
                    reveal_bidi(link.title),
                    link.status,
                    link.number,
                )
            others.append(drawn[key])
        why = ""
        if incident:
            found = getattr(alert, "why", None)
            if found not in drawn:
                drawn[found] = html_row(
                    '<td class="why">{}</td>', reason(found) if found else html_row(MUTED, "—")
                )
            why = drawn[found]
        html.append(
            html_row(
                ALERT_ROW,
                sev=alert.severity.lower(),
                check=check,
                url=alert_url.fill(uuid_),
                name=name,
                entities=alert_entities(alert, tags),
                refusal=html_row(
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
                links=SafeString("".join(others)) if links else html_row(MUTED, "—"),
                why=why,
            )
        )
    return SafeString("".join(html))


# --- timelines -------------------------------------------------------------------------

SHIELD = (
    '<svg class="shield" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" '
    'focusable="false"><path d="M8 .8 1.8 3.2v4.3c0 3.6 2.6 6.6 6.2 7.7 3.6-1.1 6.2-4.1 '
    '6.2-7.7V3.2L8 .8Z"/></svg>'
)
TIMELINE_ITEM = (
    '<li class="tl-item sev-{sev} {where}">\n  {shield}\n  <div class="tl-body">\n'
    '    <a class="tl-name" id="alert-link-{uuid}" href="{url}"{autofocus}>{name}</a>\n'
    '    <span class="visually-hidden">{where_text}</span>\n'
    '    <p class="tl-meta">\n      <span class="sev sev-{sev}">{severity}</span>\n'
    "      <span>{product}</span>\n      <span>{time}</span>\n      {entities}\n"
    "      {others}\n    </p>\n    {refusal}\n  </div>\n  {actions}\n</li>\n"
)
MENU = (
    '<div class="menu-wrap">\n      <a class="menu-button" role="button" id="more-{uuid}" '
    'href="{remove}" aria-haspopup="menu" aria-expanded="false" aria-controls="menu-{uuid}" '
    'aria-label="More actions for {name}"><span aria-hidden="true">…</span></a>\n'
    '      <ul class="menu" id="menu-{uuid}" role="menu" aria-labelledby="more-{uuid}" hidden>\n'
    '        <li role="none">{button}</li>\n      </ul>\n    </div>'
)
# aria-disabled, not disabled: the menu's keys still reach it and its reason.
MENU_REFUSED = (
    '<button type="button" role="menuitem" tabindex="-1" aria-disabled="true" '
    'aria-describedby="remove-refusal-{uuid}">Remove alert</button>'
)
MENU_REMOVE = (
    '<button type="button" role="menuitem" tabindex="-1" '
    'hx-get="{remove}?focus=incident-timeline-heading&amp;next={next}" '
    'hx-target="#flyout-body" hx-swap="innerHTML">Remove alert</button>'
)
REMOVE_REFUSED = (
    '<button type="button" class="remove-button" disabled '
    'aria-describedby="alert-link-{uuid} remove-refusal-{uuid}">Remove alert</button>'
)
REMOVE = (
    '<a class="remove-button" role="button" id="remove-{uuid}" '
    'href="{remove}?next={next}&amp;focus=add-{uuid}" '
    'hx-get="{remove}?next={next}&amp;focus=add-{uuid}" hx-target="#flyout-body" '
    'hx-swap="innerHTML" aria-describedby="alert-link-{uuid}" '
    'title="Remove this alert from incident #{number}">Remove alert</a>'
)
ADD = (
    '<a class="add-button" role="button" id="add-{uuid}" href="{add}?next={next}" '
    'hx-get="{add}?next={next}" hx-target="#flyout-body" hx-swap="innerHTML" '
    'aria-label="Add alert to incident" aria-describedby="alert-link-{uuid}" '
    'title="Add this alert to incident #{number}"><span aria-hidden="true">+</span></a>'
)


@register.simple_tag(takes_context=True)
def timeline_items(context, alerts, in_incident=None, menu=False, add=False) -> SafeString:
    """A timeline's alerts, newest first, for the incident in the context. In the incident:
    solid severity band and a coloured shield; outside it (`alert.in_incident` false, when
    `in_incident` is not given): greyed, with a dotted band. `menu`: the Overview's "More
    actions" menu with Remove alert; `add`: the entity timeline's buttons, + outside the
    incident and Remove alert in it. Each action's reason when it is refused."""
    incident = context["incident"]
    alert_url = UrlPattern("incidents:alert")
    incident_url = UrlPattern("incidents:incident")
    remove_url = UrlPattern("incidents:remove_alert", incident.number)
    add_url = UrlPattern("incidents:add_alert", incident.number)
    request = context.get("request")
    here = quote(request.get_full_path(), safe="/") if request is not None else ""
    autofocus = bool(context.get("appending"))
    tags: dict = {}  # Entity tags, drawn once for the alerts that share them.
    html = []
    for alert in alerts:
        uuid_ = alert.system_alert_id
        inside = alert.in_incident if in_incident is None else in_incident
        name = reveal_bidi(alert.display_name)
        refusal = getattr(alert, "remove_refusal", "") if inside else ""
        others = ""
        if getattr(alert, "other_links", None):
            links = ", ".join(
                html_row(
                    '<a href="{}" title="{} ({})">#{}</a>',
                    incident_url.fill(link.number),
                    reveal_bidi(link.title),
                    link.status,
                    link.number,
                )
                for link in alert.other_links
            )
            others = html_row(
                '<span class="tl-others">{} {}</span>',
                "Also in" if inside else "In",
                SafeString(links),
            )
        actions = ""
        if menu:
            remove = remove_url.fill(uuid_)
            button = (
                html_row(MENU_REFUSED, uuid=uuid_)
                if refusal
                else html_row(MENU_REMOVE, remove=remove, next=here)
            )
            actions = html_row(MENU, uuid=uuid_, remove=remove, name=name, button=button)
        elif add and inside:
            actions = (
                html_row(REMOVE_REFUSED, uuid=uuid_)
                if refusal
                else html_row(
                    REMOVE,
                    uuid=uuid_,
                    remove=remove_url.fill(uuid_),
                    next=here,
                    number=incident.number,
                )
            )
        elif add:
            actions = html_row(
                ADD, uuid=uuid_, add=add_url.fill(uuid_), next=here, number=incident.number
            )
        html.append(
            html_row(
                TIMELINE_ITEM,
                sev=alert.severity.lower(),
                where="in-incident" if inside else "outside",
                shield=SafeString(SHIELD),
                uuid=uuid_,
                url=alert_url.fill(uuid_),
                autofocus=SafeString(" autofocus") if autofocus and not html else "",
                name=name,
                where_text="In this incident." if inside else "Not in this incident.",
                severity=alert.severity,
                product=reveal_bidi(alert.product_name or "—"),
                time=timestamp(template_localtime(alert.time_generated)),
                entities=alert_entities(alert, tags),
                others=others,
                refusal=html_row(
                    '<p class="tl-refusal" id="remove-refusal-{}">{}</p>',
                    uuid_,
                    reveal_bidi(refusal),
                )
                if refusal and (menu or add)
                else "",
                actions=actions,
            )
        )
    return SafeString("".join(html))


# --- activity ------------------------------------------------------------------------

ACTIVITY_KINDS = dict(ActivityKind.choices)
ACTIVITY_ENTRY = (
    '<p class="meta"><strong>{actor}</strong>{channel} · {time} · '
    '<span class="kind">{kind}</span></p>\n<p class="message">{message}</p>\n{comment}{alerts}'
)
COMMENT = (
    '<blockquote class="comment"><span class="visually-hidden">Comment: </span>{}</blockquote>\n'
)
# The alerts of an entry that moved or added several at once: open when short.
ENTRY_ALERTS = (
    '<details class="entry-alerts"{open}>\n  <summary>{count} alerts</summary>\n'
    '  <ul class="plain">\n    {items}\n  </ul>\n</details>\n'
)
OPEN_UP_TO = 5


@register.simple_tag(takes_context=True)
def activity_entry(context, entry) -> SafeString:
    """An Activity tab entry's meta line (who, the channel when it does not go without
    saying, when, what kind), its message, its comment and its alerts: a page of 50
    through the template language cost more than the rest of the tab (#14)."""
    # The alerts' address, reversed once for the page's entries, not once per entry.
    if "alert_url" not in context.render_context:
        context.render_context["alert_url"] = UrlPattern("incidents:alert")
    alert_url = context.render_context["alert_url"]
    channel = entry.channel
    comment = entry.comment
    return html_row(
        ACTIVITY_ENTRY,
        actor=reveal_bidi(entry.actor_name),
        channel=html_row(' <span class="muted">via {}</span>', channel) if channel else "",
        time=timestamp(template_localtime(entry.created)),
        kind=ACTIVITY_KINDS.get(entry.kind, entry.kind),
        message=reveal_bidi(entry.message),
        comment=html_row(COMMENT, collapsible(comments.render(reveal_bidi(comment))))
        if comment
        else "",
        alerts=_entry_alerts(entry.details, alert_url),
    )


def _entry_alerts(details, alert_url: UrlPattern) -> str:
    alerts = details.get("alert_list") if isinstance(details, dict) else None
    if not alerts or not isinstance(alerts, list):
        return ""
    items = []
    for item in alerts:
        if not isinstance(item, dict):
            continue
        origin = item.get("from")
        numbers = ", ".join(f"#{n}" for n in origin) if isinstance(origin, list) else ""
        items.append(
            html_row(
                '<li><a href="{url}">{name}</a>{origin}</li>',
                url=alert_url.fill(item.get("alert", "")),
                name=reveal_bidi(str(item.get("alert_name", ""))),
                origin=html_row(' <span class="muted">from {}</span>', numbers) if numbers else "",
            )
        )
    return html_row(
        ENTRY_ALERTS,
        open=SafeString(" open") if len(alerts) <= OPEN_UP_TO else "",
        count=len(alerts),
        items=SafeString("".join(items)),
    )
