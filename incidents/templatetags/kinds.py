"""`{% kind_icon kind %}`: the address of an entity kind's icon (static/img/kinds/), and
`{{ kind|kind_label }}`: its name ("Host"). Both are looked up once per kind, not per
entity shown (`get_kind_display` rebuilds the kinds' choices on every call)."""

import functools

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.templatetags.static import static

from incidents.models import EntityKind

register = template.Library()

# One icon per kind; kinds without their own borrow the nearest one.
ICONS = {
    EntityKind.MAIL_CLUSTER: "mailmessage",
    EntityKind.SUBMISSION_MAIL: "mailmessage",
    EntityKind.OAUTH_APPLICATION: "cloudapplication",
    EntityKind.AZURE_RESOURCE: "cloudapplication",
    EntityKind.CLOUD_LOGON_SESSION: "cloudapplication",
    EntityKind.CLOUD_LOGON_REQUEST: "cloudapplication",
    EntityKind.REGISTRY_VALUE: "registrykey",
    EntityKind.IOT_DEVICE: "host",
}
OWN_ICONS = {
    "account",
    "host",
    "ip",
    "url",
    "file",
    "filehash",
    "process",
    "mailbox",
    "mailmessage",
    "cloudapplication",
    "dns",
    "registrykey",
    "malware",
    "securitygroup",
}


@register.simple_tag
@functools.cache
def kind_icon(kind: str) -> str:
    name = kind if kind in OWN_ICONS else ICONS.get(kind, "other")
    return static(f"img/kinds/{name}.svg")


@receiver(setting_changed)
def _static_changed(setting: str, **kwargs) -> None:
    if setting in ("STATIC_URL", "STORAGES"):
        kind_icon.cache_clear()


LABELS = dict(EntityKind.choices)


@register.filter
def kind_label(kind: str) -> str:
    return LABELS.get(kind, kind)
