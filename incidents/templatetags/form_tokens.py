"""`{% form_token %}`: the hidden one-time token that makes a form safe to submit twice."""

import uuid

from django import template
from django.utils.html import format_html

from incidents.idempotency import FIELD

register = template.Library()


@register.simple_tag
def form_token() -> str:
    return format_html('<input type="hidden" name="{}" value="{}">', FIELD, uuid.uuid4())
