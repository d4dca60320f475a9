"""`{% kind_icon kind %}`: the address of an entity kind's icon (static/img/kinds/)."""

from django import template
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
def kind_icon(kind: str) -> str:
    name = kind if kind in OWN_ICONS else ICONS.get(kind, "other")
    return static(f"img/kinds/{name}.svg")
